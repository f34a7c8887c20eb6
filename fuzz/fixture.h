// What the fuzz targets share: a fixed set of models (a models file, parsed with the real
// loader), an in-memory SQLite database with those tables and a few rows, and the helpers that
// tell an expected error from a finding.
//
// Expected errors are cascade::Error (and the shell's own SyntaxError); a target lets anything
// else escape LLVMFuzzerTestOneInput, and the uncaught exception aborts with its type, message
// and the stack of the throw, which libFuzzer records as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "cascade/database.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cli/shell/interpreter.h"

namespace cascade::fuzz {

// Every on_delete rule the engine carries out, self references, one-to-one, many-to-many, soft
// delete policies, dates, unique fields and default orderings.
inline constexpr const char* kModels = R"toml(
[models.blog.Author]
display = "{name}"
ordering = ["name"]
fields.name = { type = "char", max_length = 100 }
fields.email = { type = "char", max_length = 254, blank = true, null = true }
fields.mentor = { type = "foreign_key", to = "self", on_delete = "SET_NULL", null = true, related_name = "mentees" }

[models.blog.Profile]
fields.author = { type = "one_to_one", to = "Author", on_delete = "CASCADE" }
fields.born = { type = "date", null = true }
fields.score = { type = "float", default = 0.0 }

[models.blog.Tag]
display = "{name}"
fields.name = { type = "char", max_length = 50, unique = true }

[models.blog.Post]
display = "{title}"
ordering = ["-published", "title"]
fields.title = { type = "char", max_length = 200 }
fields.status = { type = "char", max_length = 20, default = "published" }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL", null = true, blank = true, related_name = "edited_posts" }
fields.published = { type = "datetime", null = true }
fields.views = { type = "big_integer", default = 0 }
fields.tags = { type = "many_to_many", to = "Tag", related_name = "posts", blank = true }

[models.blog.Comment]
display = "Comment {id} on post {post_id}"
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }
fields.parent = { type = "foreign_key", to = "self", on_delete = "CASCADE", null = true, related_name = "replies" }
fields.body = { type = "text" }

[models.shop.Customer]
delete_policy = "soft"
display = "{name}"
fields.name = { type = "char", max_length = 100, unique = true }

[models.shop.Product]
delete_policy = "soft_cascade"
display = "{name}"
fields.name = { type = "char", max_length = 100 }
fields.discontinued = { type = "boolean", default = false }

[models.shop.Order]
delete_policy = "soft"
display = "Order {number}"
fields.number = { type = "char", max_length = 30, unique = true }
fields.placed = { type = "date", null = true }
fields.customer = { type = "foreign_key", to = "Customer", on_delete = "CASCADE", related_name = "orders" }
fields.referrer = { type = "foreign_key", to = "Customer", on_delete = "DO_NOTHING", null = true, related_name = "referred_orders" }

[models.shop.OrderItem]
delete_policy = "soft_cascade"
fields.order = { type = "foreign_key", to = "Order", on_delete = "CASCADE", related_name = "items" }
fields.product = { type = "foreign_key", to = "Product", on_delete = "PROTECT", related_name = "order_items" }
fields.quantity = { type = "integer", default = 1 }

[models.shop.Review]
fields.product = { type = "foreign_key", to = "Product", on_delete = "RESTRICT", related_name = "reviews" }
fields.author = { type = "foreign_key", to = "blog.Author", on_delete = "DB_CASCADE", related_name = "reviews" }
fields.stars = { type = "integer", default = 5 }

[models.shop.Archive]
delete_policy = "never"
fields.customer = { type = "foreign_key", to = "Customer", on_delete = "CASCADE", related_name = "archives" }
fields.note = "text"
)toml";

// The rows every input starts from, made through the shell itself.
inline constexpr const char* kRows = R"py(
ann = Author.objects.create(name='Ann', email='ann@example.com')
bob = Author.objects.create(name='Bob', mentor=ann)
Profile.objects.create(author=ann, born=datetime.date(1990, 5, 17), score=2.5)
t1 = Tag.objects.create(name='c++')
t2 = Tag.objects.create(name='orm')
p1 = Post.objects.create(title='Hello', author=ann, editor=bob, published=datetime.datetime(2024, 1, 2, 3, 4, 5))
p2 = Post.objects.create(title='Draft', status='draft', author=bob)
p1.tags.add(t1, t2)
p2.tags.add(t2)
c1 = Comment.objects.create(post=p1, body='first')
Comment.objects.create(post=p1, parent=c1, body='reply')
eve = Customer.objects.create(name='Eve')
Customer.objects.create(name='Mallory')
o = Order.objects.create(number='A-1', customer=eve, placed=datetime.date(2024, 2, 29))
pen = Product.objects.create(name='pen')
ink = Product.objects.create(name='ink', discontinued=True)
OrderItem.objects.create(order=o, product=pen, quantity=3)
OrderItem.objects.create(order=o, product=ink)
Review.objects.create(product=ink, author=ann, stars=2)
Archive.objects.create(customer=eve, note='kept')
)py";

// An ostream that drops what it is given (formatting still runs).
class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(&buf_) {}

 private:
  struct Buf : std::streambuf {
    int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  } buf_;
};

[[noreturn]] inline void fixture_broken(const std::string& what) {
  std::fprintf(stderr, "fuzz fixture is broken: %s\n", what.c_str());
  std::abort();
}

// The fixed models and an in-memory database holding kRows; built once per process.
struct Fixture {
  Project project;
  std::unique_ptr<Database> db;

  Fixture() {
    try {
      project = parse_project(kModels, "fuzz-models.toml");
      db = std::make_unique<Database>(Database::open(*project.registry, "sqlite://:memory:"));
      db->migrate();
      NullStream out;
      std::ostringstream err;
      shell::Interpreter interp(*db, out, false);
      if (!interp.run(std::string("import datetime\n") + kRows, err)) fixture_broken(err.str());
    } catch (const std::exception& e) {
      fixture_broken(e.what());
    }
  }
};

inline Fixture& fixture() {
  static Fixture* f = new Fixture();  // never destroyed: no exit-time teardown order issues
  return *f;
}

}  // namespace cascade::fuzz
