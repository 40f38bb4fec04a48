// A validator for the OpenAPI 3.0 subset TEI's schemas use: type (object, array, string,
// integer, number, boolean), nullable, required, properties, additionalProperties, items, enum,
// minimum, oneOf (exactly one), allOf and $ref into the same document. Returns the first
// violation as "<path>: <why>", or an empty string.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace skillmatch::test {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schemas) : schemas_(std::move(schemas)) {}

  std::string validate(const nlohmann::json& value, const std::string& schema_name) const {
    if (!schemas_.contains(schema_name)) return "no schema " + schema_name;
    return check(value, schemas_.at(schema_name), "$");
  }

 private:
  const nlohmann::json& resolve(const nlohmann::json& s) const {
    if (s.contains("$ref")) {
      const std::string ref = s["$ref"];
      return schemas_.at(ref.substr(ref.rfind('/') + 1));
    }
    return s;
  }

  std::string check(const nlohmann::json& v, const nlohmann::json& schema_in,
                    const std::string& path) const {
    const nlohmann::json& s = resolve(schema_in);
    if (v.is_null() && s.value("nullable", false)) return "";
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"]) {
        if (auto e = check(v, sub, path); !e.empty()) return e;
      }
    }
    if (s.contains("oneOf")) {
      int ok = 0;
      std::string last;
      for (const auto& sub : s["oneOf"]) {
        auto e = check(v, sub, path);
        if (e.empty()) {
          ++ok;
        } else {
          last = e;
        }
      }
      if (ok != 1) return path + ": matches " + std::to_string(ok) + " of oneOf (" + last + ")";
      return "";
    }
    if (s.contains("type")) {
      const std::string t = s["type"];
      const bool type_ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
                           (t == "string" && v.is_string()) ||
                           (t == "integer" && v.is_number_integer()) ||
                           (t == "number" && v.is_number()) || (t == "boolean" && v.is_boolean());
      if (!type_ok) return path + ": expected " + t + ", got " + v.type_name();
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || e == v;
      if (!found) return path + ": " + v.dump() + " is not one of " + s["enum"].dump();
    }
    if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>()) {
      return path + ": below the minimum";
    }
    if (v.is_object()) {
      for (const auto& r : s.value("required", nlohmann::json::array())) {
        if (!v.contains(r.get<std::string>())) return path + ": missing " + r.get<std::string>();
      }
      const auto props = s.value("properties", nlohmann::json::object());
      for (const auto& [key, val] : v.items()) {
        if (props.contains(key)) {
          if (auto e = check(val, props[key], path + "." + key); !e.empty()) return e;
        } else if (s.contains("additionalProperties")) {
          if (auto e = check(val, s["additionalProperties"], path + "." + key); !e.empty()) {
            return e;
          }
        }
      }
    }
    if (v.is_array() && s.contains("items")) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (auto e = check(v[i], s["items"], path + "[" + std::to_string(i) + "]"); !e.empty()) {
          return e;
        }
      }
    }
    return "";
  }

  nlohmann::json schemas_;
};

}  // namespace skillmatch::test
