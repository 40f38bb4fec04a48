#include "text/simple_regex.h"

#include <cctype>
#include <functional>
#include <limits>

#include "skillmatch/core/error.h"
#include "text/unicode.h"

namespace skillmatch::text {

struct SimpleRegex::Node {
  enum class Kind { kClass, kSequence, kAlternation, kRepeat };
  Kind kind = Kind::kClass;
  // kClass: code point ranges, \s, negation.
  std::vector<std::pair<char32_t, char32_t>> ranges;
  bool space = false;      // \s inside
  bool non_space = false;  // \S inside
  bool negated = false;
  // kSequence / kAlternation: children; kRepeat: one child.
  std::vector<std::unique_ptr<Node>> children;
  std::size_t min = 0;
  std::size_t max = 0;
  bool greedy = true;

  bool matches(char32_t cp) const {
    bool in = (space && is_white_space(cp)) || (non_space && !is_white_space(cp));
    for (const auto& [a, b] : ranges) in = in || (cp >= a && cp <= b);
    return in != negated;
  }
};

namespace {

using Node = SimpleRegex::Node;
constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

class Parser {
 public:
  Parser(std::string_view p, const std::string& what) : p_(p), what_(what) {}

  std::unique_ptr<Node> parse() {
    auto n = alternation();
    if (pos_ < p_.size()) fail("unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(ErrorKind::kUnsupported,
                what_ + ": regex \"" + std::string(p_) + "\" is not supported (" + why +
                    "); skillmatch runs literals, classes, groups, | and quantifiers");
  }
  bool at_end() const { return pos_ >= p_.size(); }
  char peek() const { return p_[pos_]; }

  char32_t next_cp() {
    std::size_t n = 0;
    char32_t cp = decode_utf8(p_, pos_, &n);
    pos_ += n;
    return cp;
  }

  std::unique_ptr<Node> alternation() {
    auto first = sequence();
    if (at_end() || peek() != '|') return first;
    auto alt = std::make_unique<Node>();
    alt->kind = Node::Kind::kAlternation;
    alt->children.push_back(std::move(first));
    while (!at_end() && peek() == '|') {
      ++pos_;
      alt->children.push_back(sequence());
    }
    return alt;
  }

  std::unique_ptr<Node> sequence() {
    auto seq = std::make_unique<Node>();
    seq->kind = Node::Kind::kSequence;
    while (!at_end() && peek() != '|' && peek() != ')') {
      auto atom_node = atom();
      seq->children.push_back(quantified(std::move(atom_node)));
    }
    return seq;
  }

  // Parses "{n}", "{n,}", "{,m}", "{n,m}" at pos_; returns false (pos_ unchanged) if the brace
  // does not start a valid interval, which Ruby syntax then reads as a literal '{'.
  bool interval(std::size_t* lo, std::size_t* hi) {
    std::size_t i = pos_ + 1;
    auto number = [&](std::size_t* out) {
      std::size_t start = i, v = 0;
      while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
        v = v * 10 + static_cast<std::size_t>(p_[i] - '0');
        if (v > 100000) fail("repeat count too large");
        ++i;
      }
      *out = v;
      return i > start;
    };
    std::size_t a = 0, b = 0;
    const bool has_a = number(&a);
    if (i < p_.size() && p_[i] == '}') {
      if (!has_a) return false;
      *lo = *hi = a;
    } else if (i < p_.size() && p_[i] == ',') {
      ++i;
      const bool has_b = number(&b);
      if (i >= p_.size() || p_[i] != '}' || (!has_a && !has_b)) return false;
      *lo = has_a ? a : 0;
      *hi = has_b ? b : kUnbounded;
      if (*hi < *lo) fail("interval with max below min");
    } else {
      return false;
    }
    pos_ = i + 1;
    return true;
  }

  std::unique_ptr<Node> quantified(std::unique_ptr<Node> atom_node) {
    while (!at_end()) {
      std::size_t lo = 0, hi = 0;
      const char c = peek();
      if (c == '*') {
        lo = 0, hi = kUnbounded, ++pos_;
      } else if (c == '+') {
        lo = 1, hi = kUnbounded, ++pos_;
      } else if (c == '?') {
        lo = 0, hi = 1, ++pos_;
      } else if (c == '{') {
        if (!interval(&lo, &hi)) return atom_node;
      } else {
        return atom_node;
      }
      auto rep = std::make_unique<Node>();
      rep->kind = Node::Kind::kRepeat;
      rep->min = lo;
      rep->max = hi;
      if (!at_end() && peek() == '?') {
        rep->greedy = false;
        ++pos_;
      } else if (!at_end() && peek() == '+' && c != '{') {
        fail("possessive quantifier");
      }
      rep->children.push_back(std::move(atom_node));
      atom_node = std::move(rep);
    }
    return atom_node;
  }

  std::unique_ptr<Node> literal(char32_t cp) {
    auto n = std::make_unique<Node>();
    n->ranges.push_back({cp, cp});
    return n;
  }

  char32_t hex(std::size_t digits_min, std::size_t digits_max, bool braced) {
    char32_t v = 0;
    std::size_t n = 0;
    while (!at_end() && n < digits_max && std::isxdigit(static_cast<unsigned char>(peek()))) {
      const char c = peek();
      v = v * 16 + static_cast<char32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      ++pos_, ++n;
    }
    if (n < digits_min) fail("bad hexadecimal escape");
    if (braced) {
      if (at_end() || peek() != '}') fail("bad \\x{...} escape");
      ++pos_;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail("escape outside Unicode");
    return v;
  }

  // After a backslash: fills `n` (a class node) with what the escape stands for.
  void escape(Node* n) {
    if (at_end()) fail("trailing backslash");
    const char c = peek();
    ++pos_;
    switch (c) {
      case 't':
        n->ranges.push_back({'\t', '\t'});
        return;
      case 'n':
        n->ranges.push_back({'\n', '\n'});
        return;
      case 'r':
        n->ranges.push_back({'\r', '\r'});
        return;
      case 'f':
        n->ranges.push_back({'\f', '\f'});
        return;
      case 'v':
        n->ranges.push_back({'\v', '\v'});
        return;
      case 'a':
        n->ranges.push_back({'\a', '\a'});
        return;
      case 'e':
        n->ranges.push_back({0x1B, 0x1B});
        return;
      case 's':
        n->space = true;
        return;
      case 'S':
        n->non_space = true;
        return;
      case 'x': {
        char32_t v = 0;
        if (!at_end() && peek() == '{') {
          ++pos_;
          v = hex(1, 8, true);
        } else {
          v = hex(1, 2, false);
          if (v >= 0x80) fail("\\x escape of a raw byte");
        }
        n->ranges.push_back({v, v});
        return;
      }
      case 'u': {
        const char32_t v = hex(4, 4, false);
        n->ranges.push_back({v, v});
        return;
      }
      default:
        break;
    }
    const auto uc = static_cast<unsigned char>(c);
    if (uc < 0x80 && !std::isalnum(uc)) {
      n->ranges.push_back({static_cast<char32_t>(uc), static_cast<char32_t>(uc)});
      return;
    }
    fail(std::string("escape \\") + c);
  }

  std::unique_ptr<Node> bracket() {
    auto n = std::make_unique<Node>();
    if (!at_end() && peek() == '^') {
      n->negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (at_end()) fail("unterminated '['");
      char c = peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[') fail("nested class or POSIX bracket");
      if (c == '&' && pos_ + 1 < p_.size() && p_[pos_ + 1] == '&') fail("class intersection");
      char32_t lo = 0;
      if (c == '\\') {
        ++pos_;
        Node tmp;
        escape(&tmp);
        if (tmp.space || tmp.non_space) {
          n->space = n->space || tmp.space;
          n->non_space = n->non_space || tmp.non_space;
          continue;
        }
        lo = tmp.ranges[0].first;
      } else {
        lo = next_cp();
      }
      char32_t hi = lo;
      if (pos_ + 1 < p_.size() && peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          ++pos_;
          Node tmp;
          escape(&tmp);
          if (tmp.ranges.empty()) fail("class range ending in a class escape");
          hi = tmp.ranges[0].first;
        } else if (peek() == '[') {
          fail("nested class");
        } else {
          hi = next_cp();
        }
        if (hi < lo) fail("empty class range");
      }
      n->ranges.push_back({lo, hi});
    }
    return n;
  }

  std::unique_ptr<Node> atom() {
    const char c = peek();
    switch (c) {
      case '(': {
        ++pos_;
        if (!at_end() && peek() == '?') {
          if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            fail("group option or look-around");
          }
        }
        auto inner = alternation();
        if (at_end() || peek() != ')') fail("unterminated '('");
        ++pos_;
        return inner;
      }
      case '[':
        ++pos_;
        return bracket();
      case '.': {
        ++pos_;
        auto n = std::make_unique<Node>();
        n->negated = true;
        n->ranges.push_back({'\n', '\n'});
        return n;
      }
      case '\\': {
        ++pos_;
        auto n = std::make_unique<Node>();
        escape(n.get());
        return n;
      }
      case '*':
      case '+':
      case '?':
        fail("quantifier without a target");
      case '^':
      case '$':
        fail("anchor");
      default:
        return literal(next_cp());
    }
  }

  std::string_view p_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

class Matcher {
 public:
  Matcher(std::string_view text, std::string_view pattern, const std::string& what)
      : text_(text),
        pattern_(pattern),
        what_(what),
        max_steps_(kMaxRegexSteps + 64 * text.size()) {}

  using Cont = std::function<bool(std::size_t)>;

  bool match(const Node* n, std::size_t pos, const Cont& k) const {
    if (++steps_ > max_steps_) {
      give_up("backtracks more than " + std::to_string(max_steps_) +
              " steps (Hugging Face's Oniguruma gives up past its retry limit as well)");
    }
    if (depth_ >= kMaxRegexDepth) {
      give_up("nests deeper than " + std::to_string(kMaxRegexDepth) +
              " levels (a quantified group repeated that often)");
    }
    ++depth_;
    struct Leave {
      std::size_t& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    switch (n->kind) {
      case Node::Kind::kClass: {
        if (pos >= text_.size()) return false;
        std::size_t len = 0;
        if (!n->matches(decode_utf8(text_, pos, &len))) return false;
        return k(pos + len);
      }
      case Node::Kind::kSequence:
        return sequence(n, 0, pos, k);
      case Node::Kind::kAlternation:
        for (const auto& c : n->children) {
          if (match(c.get(), pos, k)) return true;
        }
        return false;
      case Node::Kind::kRepeat:
        if (n->children[0]->kind == Node::Kind::kClass) return repeat_class(n, pos, k);
        return repeat(n, 0, pos, k);
    }
    return false;
  }

 private:
  bool sequence(const Node* n, std::size_t i, std::size_t pos, const Cont& k) const {
    if (i == n->children.size()) return k(pos);
    return match(n->children[i].get(), pos,
                 [&](std::size_t next) { return sequence(n, i + 1, next, k); });
  }

  // A quantified single character: collect the run once, then try the continuation from the
  // longest (greedy) or shortest (lazy) allowed count.
  bool repeat_class(const Node* n, std::size_t pos, const Cont& k) const {
    const Node* c = n->children[0].get();
    std::vector<std::size_t> ends{pos};
    std::size_t p = pos;
    while (ends.size() - 1 < n->max && p < text_.size()) {
      std::size_t len = 0;
      if (!c->matches(decode_utf8(text_, p, &len))) break;
      p += len;
      ends.push_back(p);
    }
    const std::size_t count = ends.size() - 1;
    if (count < n->min) return false;
    if (n->greedy) {
      for (std::size_t m = count + 1; m-- > n->min;) {
        if (k(ends[m])) return true;
      }
    } else {
      for (std::size_t m = n->min; m <= count; ++m) {
        if (k(ends[m])) return true;
      }
    }
    return false;
  }

  // A quantified group: recursion per iteration; an iteration that consumes nothing ends the loop.
  bool repeat(const Node* n, std::size_t done, std::size_t pos, const Cont& k) const {
    const auto more = [&]() {
      return match(n->children[0].get(), pos, [&](std::size_t next) {
        if (next == pos && done >= n->min) return false;
        return repeat(n, done + 1, next, k);
      });
    };
    if (done < n->min) return more();
    if (done >= n->max) return k(pos);
    if (n->greedy) return more() || k(pos);
    return k(pos) || more();
  }

  [[noreturn]] void give_up(const std::string& why) const {
    throw Error(ErrorKind::kUnsupported, what_ + ": regex \"" + std::string(pattern_) +
                                             "\" on a text of " + std::to_string(text_.size()) +
                                             " bytes: the match " + why +
                                             "; skillmatch gives up on this text");
  }

  std::string_view text_;
  std::string_view pattern_;
  const std::string& what_;
  std::size_t max_steps_;
  mutable std::size_t steps_ = 0;
  mutable std::size_t depth_ = 0;
};

}  // namespace

SimpleRegex::SimpleRegex(std::string_view pattern, const std::string& what)
    : pattern_(pattern), what_(what) {
  root_ = Parser(pattern, what).parse();
}
SimpleRegex::~SimpleRegex() = default;
SimpleRegex::SimpleRegex(SimpleRegex&&) noexcept = default;
SimpleRegex& SimpleRegex::operator=(SimpleRegex&&) noexcept = default;

std::vector<std::pair<std::size_t, std::size_t>> SimpleRegex::find_all(
    std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const Matcher m(text, pattern_, what_);
  std::size_t last_end = 0;
  bool has_last_match = false;
  std::size_t last_match_end = 0;
  while (last_end <= text.size()) {
    // Leftmost start at or after last_end where the pattern matches.
    std::size_t start = last_end, end = 0;
    bool found = false;
    while (true) {
      found = m.match(root_.get(), start, [&](std::size_t e) {
        end = e;
        return true;
      });
      if (found || start >= text.size()) break;
      std::size_t len = 0;
      decode_utf8(text, start, &len);
      start += len;
    }
    if (!found) break;
    if (end == start && has_last_match && last_match_end == end) {
      // An empty match right where the previous one ended: step over one character.
      if (last_end >= text.size()) break;
      std::size_t len = 0;
      decode_utf8(text, last_end, &len);
      last_end += len;
      continue;
    }
    last_end = end;
    has_last_match = true;
    last_match_end = end;
    out.emplace_back(start, end);
  }
  return out;
}

}  // namespace skillmatch::text
