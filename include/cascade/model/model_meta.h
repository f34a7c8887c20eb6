// ModelMeta: everything Cascade knows about one model (Django's Model._meta). The Registry owns
// every ModelMeta; after Registry::finalize() they are immutable and may be shared between
// threads. Pointers to a ModelMeta or its Fields stay valid as long as the Registry lives.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/model/field.h"

namespace cascade {

// What remove() does to a model's rows.
//   Hard:        Django's behaviour: the rows are deleted (the default).
//   Soft:        the rows are kept and marked (deleted_at, deletion_id); related rows follow
//                their own on_delete as for a hard delete, but soft-deletable ones are marked.
//   SoftCascade: the rows are marked, and so is every soft-deletable row the cascade reaches;
//                rows of other models are left as they are.
//   Never:       remove() refuses.
enum class DeletePolicy { Hard, Soft, SoftCascade, Never };
// The policy as the models file spells it: "hard", "soft", "soft_cascade", "never".
std::string_view delete_policy_name(DeletePolicy policy) noexcept;

// The columns a soft-deletable model gets (added by Registry::finalize()).
inline constexpr const char* kDeletedAtField = "deleted_at";
inline constexpr const char* kDeletionIdField = "deletion_id";

// A reverse relation: a foreign key, one-to-one or many-to-many field on another model (or on
// this one) that points at this model.
struct RelatedObject {
  const Field* field;  // the field declared on the referencing model
  const ModelMeta* related_model() const noexcept { return field->model; }
};

class ModelMeta {
 public:
  ModelMeta() = default;
  ModelMeta(std::string app_label, std::string object_name);

  // ---- declared ---------------------------------------------------------------------------
  std::string app_label;     // "blog"
  std::string object_name;   // "Post" (the class name)
  std::string db_table;      // empty: "<app_label>_<model_name>" as Django
  std::string display;       // str() template, e.g. "{title}"; empty: "<Model> object (<pk>)"
  std::string verbose_name;  // empty: derived from the class name as Django ("order item")
  std::string verbose_name_plural;    // empty: verbose_name + "s"
  std::vector<std::string> ordering;  // default ordering: "title", "-published"
  std::vector<std::vector<std::string>> unique_together;
  DeletePolicy delete_policy = DeletePolicy::Hard;
  bool auto_created = false;  // an auto-created many-to-many through model
  // An abstract base (Django's Meta.abstract): no table, no rows; the models naming it in
  // `bases` inherit its fields and, unless they set their own, its display, ordering,
  // unique_together and delete_policy. Registry::finalize() removes it from the models.
  bool abstract = false;
  // Abstract models this one inherits from, in order; for a proxy, the one model it proxies;
  // a concrete model named here makes this one its multi-table inheritance child (Django's
  // MTI): its table has a one-to-one primary key to the parent's ("place_ptr_id"), and it
  // sees the parent's fields.
  std::vector<std::string> bases;
  // A proxy (Django's Meta.proxy): the rows, table and fields of the model in `bases` (or of
  // that model's own concrete model), with its own name, display, ordering and verbose names.
  // Deleting through it deletes the concrete rows, counted and signalled under the proxy's
  // label (rule 46); relations to a proxy and to its concrete model are followed from either.
  bool proxy = false;

  // Concrete fields (with a column) in declaration order; the primary key first after
  // finalize (an "id" Auto field is added when none is declared). For a multi-table
  // inheritance child, finalize appends the parents' fields after its own (their `model` is
  // the ancestor whose table holds them): the first local_count fields are the table's.
  std::vector<Field> fields;
  std::vector<Field> many_to_many;
  // GenericForeignKey and GenericRelation fields (Django's private_fields): no column.
  std::vector<Field> private_fields;

  // ---- derived by Registry::finalize() -----------------------------------------------------
  // Reverse relations, in registration order; for a model with proxies, those pointing at any
  // of them too (a proxy has its concrete model's list).
  std::vector<RelatedObject> related_objects;
  const ModelMeta* concrete = nullptr;  // a proxy's concrete model (null for a concrete model)
  std::size_t local_count = 0;          // fields[0, local_count) are columns of db_table

  // Multi-table inheritance: the one-to-one primary key to the parent, and the parent; null
  // for a model without a concrete parent.
  const Field* parent_link() const noexcept {
    return !fields.empty() && fields.front().parent_link ? &fields.front() : nullptr;
  }
  const ModelMeta* parent() const noexcept {
    const Field* link = parent_link();
    return link ? link->target : nullptr;
  }
  // True when this model's rows are rows of `other` (Python's issubclass for models): the same
  // concrete model, or a multi-table descendant of it.
  bool is_a(const ModelMeta& other) const noexcept {
    for (const ModelMeta* m = &concrete_model(); m != nullptr; m = m->parent()) {
      if (m == &other.concrete_model()) return true;
    }
    return false;
  }
  // The fields whose columns are in this model's table (all but those inherited from parents).
  std::span<const Field> local_fields() const noexcept { return {fields.data(), local_count}; }
  // True for a field whose column is in this model's table (not inherited from a parent).
  bool is_local(const Field& f) const noexcept {
    return &f >= fields.data() && &f < fields.data() + local_count;
  }

  // The GenericRelations whose rows a delete of this model's rows removes: those of its
  // concrete model and of its multi-table ancestors (Django gives a child copies of them, which
  // match the child's own content type).
  std::vector<const Field*> generic_relations() const;
  // A GenericForeignKey or GenericRelation by name (its own or a multi-table ancestor's);
  // nullptr when there is none.
  const Field* find_private(std::string_view name) const noexcept;

  // The model whose table holds the rows (Django's concrete_model).
  const ModelMeta& concrete_model() const noexcept { return concrete ? *concrete : *this; }

  // True for the Soft and SoftCascade policies: the model has deleted_at and deletion_id.
  bool soft_deletable() const noexcept {
    return delete_policy == DeletePolicy::Soft || delete_policy == DeletePolicy::SoftCascade;
  }
  // True for the deleted_at / deletion_id columns that soft delete manages.
  static bool is_soft_delete_field(const Field& f) noexcept {
    return f.name == kDeletedAtField || f.name == kDeletionIdField;
  }

  std::string model_name() const;   // lowercase object name: "post"
  std::string label() const;        // "blog.Post"
  std::string label_lower() const;  // "blog.post"

  const Field& pk() const;  // REQUIRES: finalized
  // Index of a concrete field in `fields` by name or column ("author" or "author_id").
  std::optional<std::size_t> field_index(std::string_view name) const noexcept;
  // A concrete or many-to-many field by name or column; nullptr when there is none.
  const Field* find_field(std::string_view name) const noexcept;
  // Like find_field, but throws FieldError naming the model and the choices.
  const Field& get_field(std::string_view name) const;
  // Every name find_field and find_private accept, for error messages: fields, many-to-many
  // and generic fields, sorted.
  std::vector<std::string> field_names() const;
};

}  // namespace cascade
