// The seeds' example models, declared in C++: blog (Author, Tag, Post, Comment) and shop
// (Product, PlainProduct, Order, OrderItem). examples/blog_shop/cascade.toml declares the same
// models for the stand-alone tool; a test checks that both give the same schema.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cascade/model/registry.h"
#include "cascade/value.h"

namespace blog_shop {

struct Author {
  std::optional<std::int64_t> id;
  std::string name;
  std::string email;
};

struct Tag {
  std::optional<std::int64_t> id;
  std::string name;
};

struct Post {
  std::optional<std::int64_t> id;
  std::string title;
  std::string content;
  std::string status = "published";
  std::int64_t author_id = 0;
  std::optional<std::int64_t> editor_id;
  bool is_deleted = false;
  std::optional<cascade::DateTime> published;
};

struct Comment {
  std::optional<std::int64_t> id;
  std::int64_t post_id = 0;
  std::string body;
};

struct Product {
  std::optional<std::int64_t> id;
  std::string name;
  bool discontinued = false;
  bool is_deleted = false;  // the seeds' hand-made soft delete flag
};

// Same columns as Product, but no model points at it (the benchmarks' pure fast-delete case).
struct PlainProduct {
  std::optional<std::int64_t> id;
  std::string name;
  bool discontinued = false;
};

struct Order {
  std::optional<std::int64_t> id;
  std::string number;
  cascade::Date placed;
};

struct OrderItem {
  std::optional<std::int64_t> id;
  std::int64_t order_id = 0;
  std::int64_t product_id = 0;
  int quantity = 1;
};

// Contacts and their notes: Cascade's own soft delete (delete_policy = soft). A deleted contact
// goes to the trash with its notes, and can be restored from there (the admin's trash, or
// `cascade restore crm.Contact`).
struct Contact {
  std::optional<std::int64_t> id;
  std::string name;
  std::string email;
};

struct Note {
  std::optional<std::int64_t> id;
  std::int64_t contact_id = 0;
  std::string body;
};

// Declares every model above in `registry` (not finalized).
void register_models(cascade::Registry& registry);

}  // namespace blog_shop
