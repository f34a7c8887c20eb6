#include "sql/path.h"

#include <algorithm>
#include <array>

#include "cascade/error.h"

namespace cascade::query {
namespace {

constexpr std::array<std::string_view, 16> kLookups = {
    "exact",    "iexact",    "contains", "icontains", "startswith", "istartswith",
    "endswith", "iendswith", "in",       "gt",        "gte",        "lt",
    "lte",      "range",     "isnull",   "regex"};
// Lookups a relation accepts on its key column (Django's related lookups).
constexpr std::array<std::string_view, 8> kRelatedLookups = {"exact", "in",  "gt",     "gte",
                                                             "lt",    "lte", "isnull", "range"};

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = path.find("__", start);
    if (pos == std::string_view::npos) {
      out.emplace_back(path.substr(start));
      return out;
    }
    out.emplace_back(path.substr(start, pos - start));
    start = pos + 2;
  }
}

[[noreturn]] void cannot_resolve(const ModelMeta& model, const std::string& name) {
  std::string choices;
  for (const auto& c : lookup_choices(model)) choices += (choices.empty() ? "" : ", ") + c;
  throw FieldError("Cannot resolve keyword '" + name + "' into field. Choices are: " + choices);
}

const RelatedObject* find_reverse(const ModelMeta& model, const std::string& name) {
  for (const auto& rel : model.related_objects) {
    const std::string& rn = rel.field->related_name;
    if (!rn.empty() && rn.back() == '+') continue;  // hidden
    if (rel.field->related_query_name() == name) return &rel;
  }
  return nullptr;
}

bool is_related_lookup(std::string_view name) {
  return std::find(kRelatedLookups.begin(), kRelatedLookups.end(), name) != kRelatedLookups.end();
}

}  // namespace

bool ResolvedPath::multi() const noexcept {
  return std::any_of(hops.begin(), hops.end(), [](const Hop& h) { return h.multi(); });
}

bool is_lookup_name(std::string_view name) noexcept {
  return std::find(kLookups.begin(), kLookups.end(), name) != kLookups.end();
}

std::string django_field_class(const Field& f) {
  switch (f.type) {
    case FieldType::Auto: return "AutoField";
    case FieldType::Char: return "CharField";
    case FieldType::Text: return "TextField";
    case FieldType::Integer: return "IntegerField";
    case FieldType::BigInteger: return "BigIntegerField";
    case FieldType::Float: return "FloatField";
    case FieldType::Boolean: return "BooleanField";
    case FieldType::Date: return "DateField";
    case FieldType::DateTime: return "DateTimeField";
    case FieldType::ForeignKey: return "ForeignKey";
    case FieldType::OneToOne: return "OneToOneField";
    case FieldType::ManyToMany: return "ManyToManyField";
    case FieldType::GenericForeignKey: return "GenericForeignKey";
    case FieldType::GenericRelation: return "GenericRelation";
  }
  return "Field";
}

std::vector<Hop> parent_hops(const ModelMeta& child, const ModelMeta& ancestor) {
  std::vector<Hop> hops;
  for (const ModelMeta* m = &child; m != nullptr && m != &ancestor; m = m->parent()) {
    const Field* link = m->parent_link();
    if (link == nullptr) break;
    hops.push_back({link, false});
  }
  return hops;
}

std::vector<std::string> lookup_choices(const ModelMeta& model) {
  std::vector<std::string> names;
  if (const ModelMeta* parent = model.parent()) names = lookup_choices(*parent);
  for (const auto& f : model.fields) {
    names.push_back(f.name);
    if (f.is_foreign_key()) names.push_back(f.column);
  }
  for (const auto& f : model.many_to_many) names.push_back(f.name);
  for (const auto& rel : model.related_objects) {
    const std::string& rn = rel.field->related_name;
    if (!rn.empty() && rn.back() == '+') continue;
    names.push_back(rel.field->related_query_name());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

ResolvedPath resolve_path(const ModelMeta& base, std::string_view path, bool allow_lookup) {
  if (path.empty()) throw FieldError("Cannot resolve keyword '' into field.");
  std::vector<std::string> segs = split(path);
  ResolvedPath out;
  const ModelMeta* model = &base;
  std::size_t i = 0;

  // After a relation: the rest may be nothing, a lookup on the key, the target's field the key
  // holds (`held`: its pk, or a foreign key's to_field), or a path into the target. Returns true
  // when the path ended here (on `key_field`).
  auto end_on_key = [&](const Field* key_field, const ModelMeta& target,
                        const Field& held) -> bool {
    if (i + 1 == segs.size()) {
      out.field = key_field;
      out.ends_at_relation = true;
      return true;
    }
    const std::string& next = segs[i + 1];
    bool next_is_pk = (next == "pk" && held.primary_key) || next == held.name;
    if (next_is_pk &&
        (i + 2 == segs.size() || (i + 3 == segs.size() && is_lookup_name(segs[i + 2])))) {
      out.field = key_field;
      if (i + 3 == segs.size()) {
        if (!allow_lookup) cannot_resolve(target, segs[i + 2]);
        out.lookup = segs[i + 2];
      }
      i = segs.size();
      return true;
    }
    if (i + 2 == segs.size() && next != "pk" && target.find_field(next) == nullptr &&
        find_reverse(target, next) == nullptr) {
      if (!allow_lookup || !is_related_lookup(next)) {
        if (!allow_lookup) cannot_resolve(target, next);
        throw FieldError("Related Field got invalid lookup: " + next);
      }
      out.field = key_field;
      out.lookup = next;
      i = segs.size();
      return true;
    }
    return false;
  };

  // Multi-table inheritance: a name the model has from a parent (a field, or a relation to
  // the parent) is reached through the parent links, a join each.
  auto to_parent = [&](const ModelMeta& holder) {
    for (const Hop& h : parent_hops(*model, holder)) out.hops.push_back(h);
    model = &holder;
  };
  while (i < segs.size()) {
    const std::string& s = segs[i];
    const Field* f = s == "pk" ? &model->pk() : model->find_field(s);
    if (f != nullptr && f->is_concrete() && !model->is_local(*f)) {
      to_parent(*f->model);
      continue;
    }
    if (f != nullptr && f->is_concrete() && (!f->is_foreign_key() || s != f->name)) {
      // A plain column, or a foreign key named by its attname ("author_id") or its column.
      out.field = f;
      if (i + 1 < segs.size()) {
        const std::string& next = segs[i + 1];
        if (i + 2 != segs.size() || !allow_lookup || !is_lookup_name(next)) {
          throw FieldError("Unsupported lookup '" + next + "' for " + django_field_class(*f) +
                           " or join on the field not permitted.");
        }
        out.lookup = next;
      }
      return out;
    }
    if (f != nullptr && f->is_foreign_key()) {
      out.relation_target = f->target;
      if (end_on_key(f, *f->target, *f->target_field)) return out;
      out.hops.push_back({f, false});
      model = f->target;
      ++i;
      continue;
    }
    if (f != nullptr && f->type == FieldType::ManyToMany) {
      const Field* owner_side = f->through_source;
      const Field* target_side = f->through_target;
      out.hops.push_back({owner_side, true});
      out.relation_target = f->target;
      if (end_on_key(target_side, *f->target, f->target->pk())) return out;
      out.hops.push_back({target_side, false});
      model = f->target;
      ++i;
      continue;
    }
    if (const RelatedObject* rel = find_reverse(*model, s)) {
      const Field* fk = rel->field;
      const ModelMeta& owner = fk->target->concrete_model();
      if (&owner != &model->concrete_model()) {  // a parent's relation: from the parent
        to_parent(owner);
        continue;
      }
      out.relation_target = fk->model;
      if (fk->type == FieldType::ManyToMany) {
        const Field* target_side = fk->through_target;
        const Field* owner_side = fk->through_source;
        out.hops.push_back({target_side, true});
        if (end_on_key(owner_side, *fk->model, fk->model->pk())) return out;
        out.hops.push_back({owner_side, false});
        model = fk->model;
      } else {
        out.hops.push_back({fk, true});
        model = fk->model;
        if (end_on_key(&model->pk(), *model, model->pk())) return out;
      }
      ++i;
      continue;
    }
    if (f == nullptr && model->parent() != nullptr) {
      // Perhaps the parent's: its many-to-many fields and reverse relations.
      const ModelMeta* holder = model->parent();
      while (holder != nullptr && holder->find_field(s) == nullptr &&
             find_reverse(*holder, s) == nullptr) {
        holder = holder->parent();
      }
      if (holder != nullptr) {
        to_parent(*holder);
        continue;
      }
    }
    cannot_resolve(*model, s);
  }
  return out;  // unreachable: every branch returns or continues to a field
}

}  // namespace cascade::query
