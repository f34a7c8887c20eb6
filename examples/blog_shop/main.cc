// The blog_shop application: the example models declared in C++ (models.cc), with the cascade
// tool's commands over them (as Django's manage.py) plus one command of its own, `generate`.
//
//   blog_shop --database sqlite:///demo.db migrate
//   blog_shop --database sqlite:///demo.db generate --size 200
//   blog_shop --database sqlite:///demo.db inspect
//   blog_shop --database sqlite:///demo.db runserver 8000   # views.cc: the seeds' delete views
#include <charconv>
#include <iostream>
#include <string>

#include "cascade/cli/cli.h"
#include "cascade/error.h"
#include "generate.h"
#include "models.h"
#include "views.h"

int main(int argc, char** argv) {
  cascade::Registry registry;
  blog_shop::register_models(registry);
  registry.finalize();

  cascade::cli::Command generate{
      "generate", "Fill the database with example data: generate [--size N] [--seed S]",
      [](cascade::Database& db, const std::vector<std::string>& args, std::ostream& out) {
        int size = 200;
        std::uint64_t seed = 1;
        for (std::size_t i = 0; i < args.size(); ++i) {
          auto number = [&](auto& target) {
            if (i + 1 >= args.size()) throw cascade::ValueError(args[i] + " needs a number");
            const std::string& s = args[++i];
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), target);
            if (ec != std::errc() || p != s.data() + s.size() || target <= 0) {
              throw cascade::ValueError(args[i - 1] + " needs a positive number, got '" + s + "'");
            }
          };
          if (args[i] == "--size") {
            number(size);
          } else if (args[i] == "--seed") {
            number(seed);
          } else {
            throw cascade::ValueError("generate: unknown argument '" + args[i] +
                                      "' (usage: generate [--size N] [--seed S])");
          }
        }
        auto c = blog_shop::generate(db, size, seed);
        out << "Generated " << c.authors << " authors, " << c.posts << " posts, " << c.comments
            << " comments, " << c.tags << " tags (" << c.post_tags << " post-tag links), "
            << c.products << " products, " << c.plain_products << " plain products, " << c.orders
            << " orders with " << c.order_items << " items, " << c.contacts << " contacts with "
            << c.notes << " notes.\n";
        return 0;
      }};
  return cascade::cli::run(argc, argv, registry, "sqlite:///blog_shop.db", std::cout, std::cerr,
                           {generate}, blog_shop::web_app());
}
