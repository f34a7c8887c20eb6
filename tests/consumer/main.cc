// The usage example of include/cascade/cli/cli.h, with a model to register: an application's
// own `cascade` tool over its typed models.
#include <cascade/cascade.h>
#include <cascade/version.h>

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

struct Note {
  std::optional<std::int64_t> id;
  std::string text;
};

void register_models(cascade::Registry& registry) {
  cascade::define<Note>(registry, "app", "Note", {}, cascade::primary_key(&Note::id),
                        cascade::text_field("text", &Note::text));
}

int main(int argc, char** argv) {
  static_assert(CASCADE_VERSION_MAJOR >= 0);
  std::cerr << "cascade " << cascade::version() << "\n";
  cascade::Registry registry;
  register_models(registry);
  registry.finalize();
  return cascade::cli::run(argc, argv, registry, "sqlite://:memory:", std::cout, std::cerr);
}
