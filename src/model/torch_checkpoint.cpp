#include "model/torch_checkpoint.h"

#include <memory>
#include <unordered_map>

#include "core/zip.h"
#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

// A value on the simulated pickle stack: only what a persistent id is made of is kept (strings,
// integers, globals, tuples); everything else is opaque. Values are shared, never copied, so that
// DUP and GET cost the same whatever they refer to.
struct Node {
  enum Kind { kMark, kString, kInt, kGlobal, kTuple, kStorage, kOther } kind = kOther;
  std::string text;                                // kString; kGlobal: "module name"
  std::int64_t number = 0;                         // kInt; kStorage: its elements
  std::vector<std::shared_ptr<const Node>> items;  // kTuple
};
using Value = std::shared_ptr<const Node>;

Value make(Node::Kind kind) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  return n;
}

// Bytes per element of the storage types torch.save writes.
std::size_t element_size(const std::string& type) {
  static const std::unordered_map<std::string, std::size_t> sizes = {
      {"FloatStorage", 4},    {"DoubleStorage", 8},       {"HalfStorage", 2},
      {"BFloat16Storage", 2}, {"LongStorage", 8},         {"IntStorage", 4},
      {"ShortStorage", 2},    {"CharStorage", 1},         {"ByteStorage", 1},
      {"BoolStorage", 1},     {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16},
      {"QInt8Storage", 1},    {"QUInt8Storage", 1},       {"QInt32Storage", 4},
      {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1}};
  auto it = sizes.find(type);
  return it == sizes.end() ? 0 : it->second;
}

class PickleChecker {
 public:
  PickleChecker(std::string_view data, const std::string& what) : data_(data), what_(what) {}

  std::vector<PickledStorage> run() {
    for (;;) {
      op_at_ = pos_;
      const auto op = static_cast<unsigned char>(take(1)[0]);
      if (op == '.') break;  // STOP
      step(op);
    }
    return std::move(storages_);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(ErrorKind::kCorrupt,
                what_ + ": damaged pickle at byte " + std::to_string(op_at_) + ": " + why);
  }
  [[noreturn]] void unsupported(const std::string& why) const {
    throw Error(ErrorKind::kUnsupported,
                what_ + ": pickle at byte " + std::to_string(op_at_) + ": " + why);
  }

  std::string_view take(std::uint64_t n) {
    if (n > data_.size() - pos_) fail("it ends before the data of this opcode (no STOP?)");
    const std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  std::uint64_t le(int bytes) {
    const std::string_view b = take(static_cast<std::uint64_t>(bytes));
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
  }
  std::string_view line() {
    const std::size_t nl = data_.find('\n', pos_);
    if (nl == std::string_view::npos) fail("a text argument has no end of line");
    const std::string_view out = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return out;
  }
  // A length argument of `bytes` bytes, then that many bytes.
  std::string_view counted(int bytes, bool is_signed = false) {
    std::uint64_t n = le(bytes);
    if (is_signed && bytes == 4 && (n & 0x80000000u)) fail("negative length");
    return take(n);
  }

  void push(Value v) { stack_.push_back(std::move(v)); }
  Value pop() {
    if (stack_.empty() || stack_.back()->kind == Node::kMark) {
      fail("the stack has no value to take");
    }
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const Value& top() {
    if (stack_.empty() || stack_.back()->kind == Node::kMark) {
      fail("the stack has no value to take");
    }
    return stack_.back();
  }
  std::vector<Value> pop_to_mark() {
    std::size_t k = stack_.size();
    while (k > 0 && stack_[k - 1]->kind != Node::kMark) --k;
    if (k == 0) fail("no MARK on the stack");
    std::vector<Value> items(stack_.begin() + static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(k - 1);
    return items;
  }
  Value tuple(std::vector<Value> items) {
    auto n = std::make_shared<Node>();
    n->kind = Node::kTuple;
    n->items = std::move(items);
    return n;
  }
  Value string(std::string_view s) {
    auto n = std::make_shared<Node>();
    n->kind = Node::kString;
    n->text = std::string(s);
    return n;
  }
  Value integer(std::int64_t v) {
    auto n = std::make_shared<Node>();
    n->kind = Node::kInt;
    n->number = v;
    return n;
  }
  // Only what a state dict of tensors is made of: libtorch's other globals rebuild tensors,
  // quantized or sparse, that skillmatch does not read and that the check does not follow.
  Value global(std::string_view module, std::string_view name) {
    auto n = std::make_shared<Node>();
    n->kind = Node::kGlobal;
    n->text = std::string(module) + " " + std::string(name);
    const bool known = n->text == "collections OrderedDict" ||
                       n->text == "torch._utils _rebuild_tensor_v2" ||
                       (module == "torch" && element_size(std::string(name)) > 0);
    if (!known) unsupported("the global " + n->text + " is not part of a state dict of tensors");
    return n;
  }
  // Memo writes must come in order (index = entries so far), as Python's pickler writes them
  // and as libtorch's unpickler assumes (it appends, and reserves room up to the index).
  void put(std::uint64_t index) {
    if (index != memo_.size()) {
      fail("memo index " + std::to_string(index) + " out of order (expected " +
           std::to_string(memo_.size()) + ")");
    }
    memo_.push_back(top());
  }
  void get(std::uint64_t index) {
    if (index >= memo_.size()) fail("memo index " + std::to_string(index) + " was never set");
    push(memo_[static_cast<std::size_t>(index)]);
  }
  static std::uint64_t decimal(std::string_view s, bool* ok) {
    std::uint64_t v = 0;
    *ok = !s.empty() && s.size() <= 18;
    for (char c : s) {
      if (c < '0' || c > '9') *ok = false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  }
  std::uint64_t line_index() {
    bool ok = false;
    const std::uint64_t v = decimal(line(), &ok);
    if (!ok) fail("a memo index is not a number");
    return v;
  }
  // Little-endian two's complement of up to 8 bytes (LONG1/LONG4); longer: opaque.
  Value long_value(std::string_view b) {
    if (b.size() > 8) return make(Node::kOther);
    std::uint64_t v = 0;
    for (std::size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
    if (!b.empty() && b.size() < 8 && (static_cast<unsigned char>(b.back()) & 0x80)) {
      v |= ~std::uint64_t{0} << (8 * b.size());
    }
    return integer(static_cast<std::int64_t>(v));
  }

  // A persistent id: the only kind libtorch loads is a storage tuple.
  Value persistent(const Value& id) {
    const auto bad = [&] {
      fail("a persistent id is not ('storage', torch.<Type>Storage, key, location, numel)");
    };
    if (id->kind != Node::kTuple || id->items.size() != 5) bad();
    const auto& it = id->items;
    if (it[0]->kind != Node::kString || it[0]->text != "storage" || it[1]->kind != Node::kGlobal ||
        it[1]->text.rfind("torch ", 0) != 0 || it[2]->kind != Node::kString ||
        it[3]->kind != Node::kString || it[4]->kind != Node::kInt || it[4]->number < 0) {
      bad();
    }
    storages_.push_back({it[2]->text, it[1]->text.substr(6), it[4]->number});
    auto n = std::make_shared<Node>();
    n->kind = Node::kStorage;
    n->number = it[4]->number;
    return n;
  }

  // _rebuild_tensor_v2(storage, offset, size, stride, ...): libtorch sets the view as it stands,
  // so every element it reaches must lie inside the storage.
  void tensor(const Value& args) {
    const auto bad = [&](const std::string& why) { fail("a tensor " + why); };
    if (args->kind != Node::kTuple || args->items.size() < 4) {
      bad("is not rebuilt from (storage, offset, size, stride, ...)");
    }
    const auto& a = args->items;
    if (a[0]->kind != Node::kStorage) bad("is not made of a storage of the checkpoint");
    if (a[1]->kind != Node::kInt || a[1]->number < 0) bad("has no storage offset");
    if (a[2]->kind != Node::kTuple || a[3]->kind != Node::kTuple ||
        a[2]->items.size() != a[3]->items.size()) {
      bad("has sizes and strides that do not match");
    }
    // The last element the view reaches: offset + sum of (size - 1) * stride; none if a size is 0.
    std::uint64_t last = static_cast<std::uint64_t>(a[1]->number);
    bool empty = false, overflow = false;
    for (std::size_t i = 0; i < a[2]->items.size(); ++i) {
      const Node& size = *a[2]->items[i];
      const Node& stride = *a[3]->items[i];
      if (size.kind != Node::kInt || stride.kind != Node::kInt || size.number < 0 ||
          stride.number < 0) {
        bad("has a size or stride that is not a whole number from 0 up");
      }
      if (size.number == 0) empty = true;
      std::uint64_t reach = 0;
      overflow =
          overflow ||
          __builtin_mul_overflow(static_cast<std::uint64_t>(size.number > 0 ? size.number - 1 : 0),
                                 static_cast<std::uint64_t>(stride.number), &reach) ||
          __builtin_add_overflow(last, reach, &last);
    }
    if (!empty && (overflow || last >= static_cast<std::uint64_t>(a[0]->number))) {
      bad("reaches past the " + std::to_string(a[0]->number) + " elements of its storage");
    }
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80:  // PROTO
        if (le(1) > 5) fail("pickle protocol above 5");
        break;
      case 0x95:  // FRAME
        if (le(8) > data_.size() - pos_) fail("a frame runs past the end");
        break;
      case '(':  // MARK
        push(make(Node::kMark));
        break;
      case '0':  // POP
        if (stack_.empty()) fail("the stack is empty");
        stack_.pop_back();
        break;
      case '1':  // POP_MARK
        pop_to_mark();
        break;
      case '2':  // DUP
        push(top());
        break;
      case 'F':  // FLOAT
      case 'L':  // LONG
      case 'P':  // PERSID (text persistent id; libtorch does not load it)
        line();
        push(make(Node::kOther));
        break;
      case 'I': {  // INT
        const std::string_view s = line();
        bool ok = false;
        const bool negative = !s.empty() && s[0] == '-';
        const std::uint64_t v = decimal(negative ? s.substr(1) : s, &ok);
        push(ok ? integer(negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v))
                : make(Node::kOther));
        break;
      }
      case 'J':  // BININT
        push(integer(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4)))));
        break;
      case 'K':  // BININT1
        push(integer(static_cast<std::int64_t>(le(1))));
        break;
      case 'M':  // BININT2
        push(integer(static_cast<std::int64_t>(le(2))));
        break;
      case 0x8a:  // LONG1
        push(long_value(counted(1)));
        break;
      case 0x8b:  // LONG4
        push(long_value(counted(4, true)));
        break;
      case 'N':   // NONE
      case 0x88:  // NEWTRUE
      case 0x89:  // NEWFALSE
      case 0x97:  // NEXT_BUFFER
        push(make(Node::kOther));
        break;
      case 'G':  // BINFLOAT
        take(8);
        push(make(Node::kOther));
        break;
      case 'Q':  // BINPERSID
        push(persistent(pop()));
        break;
      case 'R': {  // REDUCE
        const Value args = pop(), callable = pop();
        if (callable->kind == Node::kGlobal &&
            callable->text == "torch._utils _rebuild_tensor_v2") {
          tensor(args);
        }
        push(make(Node::kOther));
        break;
      }
      case 0x81:  // NEWOBJ
        pop();
        pop();
        push(make(Node::kOther));
        break;
      case 0x92:  // NEWOBJ_EX
        pop();
        pop();
        pop();
        push(make(Node::kOther));
        break;
      case 'S':  // STRING (a quoted repr)
      case 'V':  // UNICODE (raw-unicode-escape)
        push(string(line()));
        break;
      case 'T':  // BINSTRING
      case 'X':  // BINUNICODE
        push(string(counted(4, op == 'T')));
        break;
      case 'U':   // SHORT_BINSTRING
      case 0x8c:  // SHORT_BINUNICODE
        push(string(counted(1)));
        break;
      case 0x8d:  // BINUNICODE8
        push(string(counted(8)));
        break;
      case 'B':  // BINBYTES
        counted(4);
        push(make(Node::kOther));
        break;
      case 'C':  // SHORT_BINBYTES
        counted(1);
        push(make(Node::kOther));
        break;
      case 0x8e:  // BINBYTES8
      case 0x96:  // BYTEARRAY8
        counted(8);
        push(make(Node::kOther));
        break;
      case 'a':  // APPEND
      case 'b':  // BUILD
        pop();
        top();
        break;
      case 's':  // SETITEM
        pop();
        pop();
        top();
        break;
      case 'e':   // APPENDS
      case 'u':   // SETITEMS
      case 0x90:  // ADDITEMS
        pop_to_mark();
        top();
        break;
      case 'c': {  // GLOBAL
        const std::string_view module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Value name = pop(), module = pop();
        push(name->kind == Node::kString && module->kind == Node::kString
                 ? global(module->text, name->text)
                 : make(Node::kOther));
        break;
      }
      case 'i':  // INST
        line();
        line();
        pop_to_mark();
        push(make(Node::kOther));
        break;
      case 'd':   // DICT
      case 'l':   // LIST
      case 'o':   // OBJ
      case 0x91:  // FROZENSET
        pop_to_mark();
        push(make(Node::kOther));
        break;
      case '}':   // EMPTY_DICT
      case ']':   // EMPTY_LIST
      case 0x8f:  // EMPTY_SET
        push(make(Node::kOther));
        break;
      case ')':  // EMPTY_TUPLE
        push(tuple({}));
        break;
      case 't':  // TUPLE
        push(tuple(pop_to_mark()));
        break;
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        std::vector<Value> items(op - 0x85u + 1u);
        for (std::size_t k = items.size(); k-- > 0;) items[k] = pop();
        push(tuple(std::move(items)));
        break;
      }
      case 'g':  // GET
        get(line_index());
        break;
      case 'h':  // BINGET
        get(le(1));
        break;
      case 'j':  // LONG_BINGET
        get(le(4));
        break;
      case 'p':  // PUT
        put(line_index());
        break;
      case 'q':  // BINPUT
        put(le(1));
        break;
      case 'r':  // LONG_BINPUT
        put(le(4));
        break;
      case 0x94:  // MEMOIZE
        put(memo_.size());
        break;
      case 0x82:  // EXT1
      case 0x83:  // EXT2
      case 0x84:  // EXT4
        le(op == 0x82 ? 1 : op == 0x83 ? 2 : 4);
        push(make(Node::kOther));
        break;
      case 0x98:  // READONLY_BUFFER
        top();
        break;
      default: {
        static const char* const hex = "0123456789abcdef";
        fail(std::string("unknown opcode 0x") + hex[op >> 4] + hex[op & 15]);
      }
    }
  }

  std::string_view data_;
  const std::string& what_;
  std::size_t pos_ = 0;
  std::size_t op_at_ = 0;
  std::vector<Value> stack_;
  std::vector<Value> memo_;
  std::vector<PickledStorage> storages_;
};

}  // namespace

std::vector<PickledStorage> check_pickle(std::string_view pickle, const std::string& what) {
  return PickleChecker(pickle, what).run();
}

void check_torch_checkpoint(const std::filesystem::path& file) {
  const std::string what = file.string();
  const ZipReader zip(file);
  std::string pickle_entry;
  for (const std::string& name : zip.names()) {
    zip.check(name);
    const std::string suffix = "/data.pkl";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      SM_CHECK(pickle_entry.empty(), ErrorKind::kCorrupt,
               what + ": two pickles (" + pickle_entry + ", " + name + ")");
      pickle_entry = name;
    }
  }
  SM_CHECK(!pickle_entry.empty(), ErrorKind::kCorrupt,
           what + ": no <archive>/data.pkl: not a PyTorch checkpoint");
  const std::string prefix = pickle_entry.substr(0, pickle_entry.size() - 8);  // "<archive>/"
  for (const PickledStorage& s : check_pickle(zip.read(pickle_entry), what + ": " + pickle_entry)) {
    const std::size_t size = element_size(s.type);
    SM_CHECK(size > 0, ErrorKind::kUnsupported,
             what + ": storage " + s.key + " has the type " + s.type +
                 ", which skillmatch does not know");
    if (s.numel == 0) continue;  // libtorch reads no record for an empty storage
    const std::string record = prefix + "data/" + s.key;
    SM_CHECK(zip.contains(record), ErrorKind::kCorrupt,
             what + ": storage " + s.key + " has no record " + record);
    SM_CHECK(static_cast<std::uint64_t>(s.numel) <= zip.size(record) / size, ErrorKind::kCorrupt,
             what + ": storage " + s.key + " claims " + std::to_string(s.numel) + " elements of " +
                 s.type + " but its record holds " + std::to_string(zip.size(record)) + " bytes");
  }
}

}  // namespace skillmatch
