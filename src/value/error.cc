#include "cascade/error.h"

namespace cascade {

namespace {
// "file:line: message" (or the message alone without a file).
std::string located(const std::string& message, const std::string& file, int line) {
  if (file.empty()) return message;
  std::string out = file;
  if (line > 0) out.append(":").append(std::to_string(line));
  out.append(": ").append(message);
  return out;
}
}  // namespace

ConfigError::ConfigError(std::string message, std::string file, int line)
    : Error(located(message, file, line)), file_(std::move(file)), line_(line) {}

DoesNotExist::DoesNotExist(std::string model_label, const std::string& object_name)
    : Error(object_name + " matching query does not exist."),
      model_label_(std::move(model_label)) {}

namespace {
// "blog.Post" -> "blog.models.Post", the module path Django shows for a model's exceptions.
std::string python_model_path(const std::string& label) {
  auto dot = label.find('.');
  if (dot == std::string::npos) return label;
  return label.substr(0, dot) + ".models" + label.substr(dot);
}
}  // namespace

std::string DoesNotExist::python_name() const {
  return python_model_path(model_label_) + ".DoesNotExist";
}

MultipleObjectsReturned::MultipleObjectsReturned(std::string model_label,
                                                 const std::string& object_name, std::int64_t count)
    : Error("get() returned more than one " + object_name + " -- it returned " +
            (count > 20 ? std::string("more than 20") : std::to_string(count)) + "!"),
      model_label_(std::move(model_label)) {}

std::string MultipleObjectsReturned::python_name() const {
  return python_model_path(model_label_) + ".MultipleObjectsReturned";
}

DatabaseError::DatabaseError(std::string message, int code, std::string sqlstate)
    : Error(std::move(message)), code_(code), sqlstate_(std::move(sqlstate)) {}

}  // namespace cascade
