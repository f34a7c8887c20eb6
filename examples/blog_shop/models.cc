#include "models.h"

#include "cascade/model/mapping.h"

namespace blog_shop {

void register_models(cascade::Registry& r) {
  using namespace cascade;
  define<Author>(r, "blog", "Author", {.display = "{name}", .ordering = {"name"}},
                 primary_key(&Author::id), char_field("name", &Author::name, {.max_length = 100}),
                 char_field("email", &Author::email, {.max_length = 254, .blank = true}));

  define<Tag>(r, "blog", "Tag", {.display = "{name}"}, primary_key(&Tag::id),
              char_field("name", &Tag::name, {.max_length = 50, .unique = true}));

  define<Post>(r, "blog", "Post", {.display = "{title}"}, primary_key(&Post::id),
               char_field("title", &Post::title, {.max_length = 200}),
               text_field("content", &Post::content, {.blank = true}),
               char_field("status", &Post::status,
                          {.max_length = 20, .db_index = true, .default_value = "published"}),
               foreign_key("author", &Post::author_id, "blog.Author", OnDelete::Cascade,
                           {.related_name = "posts"}),
               foreign_key("editor", &Post::editor_id, "blog.Author", OnDelete::SetNull,
                           {.related_name = "edited_posts", .blank = true}),
               boolean_field("is_deleted", &Post::is_deleted, {.default_value = false}),
               datetime_field("published", &Post::published, {.blank = true}),
               many_to_many("tags", "blog.Tag", {.related_name = "posts", .blank = true}));

  define<Comment>(r, "blog", "Comment", {.display = "Comment {id} on post {post_id}"},
                  primary_key(&Comment::id),
                  foreign_key("post", &Comment::post_id, "blog.Post", OnDelete::Cascade,
                              {.related_name = "comments"}),
                  text_field("body", &Comment::body));

  define<Product>(r, "shop", "Product", {.display = "{name}"}, primary_key(&Product::id),
                  char_field("name", &Product::name, {.max_length = 100}),
                  boolean_field("discontinued", &Product::discontinued, {.default_value = false}),
                  boolean_field("is_deleted", &Product::is_deleted, {.default_value = false}));

  define<PlainProduct>(
      r, "shop", "PlainProduct", {.display = "{name}"}, primary_key(&PlainProduct::id),
      char_field("name", &PlainProduct::name, {.max_length = 100}),
      boolean_field("discontinued", &PlainProduct::discontinued, {.default_value = false}));

  define<Order>(r, "shop", "Order", {.display = "Order {number}"}, primary_key(&Order::id),
                char_field("number", &Order::number, {.max_length = 30, .unique = true}),
                date_field("placed", &Order::placed));

  define<OrderItem>(r, "shop", "OrderItem", {.display = "{quantity} x product {product_id}"},
                    primary_key(&OrderItem::id),
                    foreign_key("order", &OrderItem::order_id, "shop.Order", OnDelete::Cascade,
                                {.related_name = "items"}),
                    foreign_key("product", &OrderItem::product_id, "shop.Product",
                                OnDelete::Protect, {.related_name = "order_items"}),
                    integer_field("quantity", &OrderItem::quantity, {.default_value = 1}));

  define<Contact>(r, "crm", "Contact",
                  {.display = "{name}", .ordering = {"name"}, .delete_policy = DeletePolicy::Soft},
                  primary_key(&Contact::id),
                  char_field("name", &Contact::name, {.max_length = 100}),
                  char_field("email", &Contact::email, {.max_length = 254, .blank = true}));

  define<Note>(
      r, "crm", "Note",
      {.display = "Note {id} on contact {contact_id}", .delete_policy = DeletePolicy::Soft},
      primary_key(&Note::id),
      foreign_key("contact", &Note::contact_id, "crm.Contact", OnDelete::Cascade,
                  {.related_name = "notes"}),
      text_field("body", &Note::body));
}

}  // namespace blog_shop
