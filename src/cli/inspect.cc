#include "cli/inspect.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <ostream>

#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cli/delete_commands.h"
#include "sql/statements.h"

namespace cascade::cli {

std::string describe_field(const Field& f) {
  std::vector<std::string> parts;
  switch (f.type) {
    case FieldType::Char: parts.push_back(fmt::format("char({})", f.max_length)); break;
    case FieldType::ForeignKey:
    case FieldType::OneToOne:
      parts.push_back(fmt::format("{} -> {}", field_type_name(f.type), f.target->label()));
      parts.push_back(fmt::format("on_delete={}", on_delete_name(f.on_delete)));
      if (f.on_delete == OnDelete::Set && f.on_delete_value) {
        parts.back() += "(" + f.on_delete_value->repr() + ")";
      }
      break;
    case FieldType::ManyToMany:
      parts.push_back(fmt::format("many_to_many <-> {}", f.target->label()));
      parts.push_back(fmt::format("through table \"{}\"", f.through->db_table));
      break;
    case FieldType::GenericForeignKey:
      parts.push_back(fmt::format("generic_foreign_key ({}, {})", f.ct_field, f.fk_field));
      break;
    case FieldType::GenericRelation:
      parts.push_back(fmt::format("generic_relation <- {} ({}, {})", f.target->label(),
                                  f.ct_field, f.fk_field));
      break;
    default: parts.emplace_back(field_type_name(f.type));
  }
  if (f.primary_key) parts.emplace_back("primary key");
  if (f.null && f.is_concrete()) parts.emplace_back("null");
  if (f.unique && !f.primary_key && f.type != FieldType::OneToOne) parts.emplace_back("unique");
  if (f.db_index) parts.emplace_back("indexed");
  if (f.default_value) parts.push_back("default " + f.default_value->repr());
  if (!f.related_name.empty()) parts.push_back("related_name=" + f.related_name);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

namespace {

std::string policy_meaning(DeletePolicy p) {
  switch (p) {
    case DeletePolicy::Hard: return "delete removes the rows";
    case DeletePolicy::Soft:
      return "delete marks the rows; what they cascade to follows its own policy";
    case DeletePolicy::SoftCascade:
      return "delete marks the rows and every soft-deletable row it reaches";
    case DeletePolicy::Never: return "rows are never deleted: a delete reaching them is refused";
  }
  return "";
}

bool has_table(const std::vector<std::string>& tables, const std::string& name) {
  return std::find(tables.begin(), tables.end(), name) != tables.end();
}

}  // namespace

int check_command(db::Connection& c, const Registry& registry, std::ostream& out) {
  auto plan = db::plan_migration(c, registry);
  auto tables = c.table_names();
  std::vector<std::string> problems = plan.problems;
  for (const auto& label : plan.create_tables) {
    problems.push_back(label + ": table missing (run `cascade migrate`)");
  }
  std::vector<std::string> warnings;
  for (const ModelMeta* m : registry.models()) {
    if (m->proxy || !has_table(tables, m->db_table)) continue;
    auto indexes = c.indexes(m->db_table);
    for (const auto& f : m->local_fields()) {
      if (!f.is_foreign_key()) continue;
      bool indexed =
          f.primary_key || std::any_of(indexes.begin(), indexes.end(), [&](const auto& ix) {
            return !ix.partial && !ix.columns.empty() && ix.columns.front() == f.column;
          });
      if (!indexed) {
        warnings.push_back(m->label() + "." + f.name + ": foreign key column \"" + f.column +
                           "\" has no index: every delete of a " + f.target->label() +
                           " row scans table \"" + m->db_table + "\"");
      }
    }
  }
  // Tables the models do not describe, whose foreign keys reach the models' rows: their
  // database rules act on deletes that no preview can show.
  std::map<std::string, const ModelMeta*> model_of_table;
  for (const ModelMeta* m : registry.models()) {
    if (!m->proxy) model_of_table[m->db_table] = m;
  }
  for (const auto& table : tables) {
    if (model_of_table.count(table)) continue;
    for (const auto& fk : c.foreign_keys(table)) {
      auto target = model_of_table.find(fk.target_table);
      if (target == model_of_table.end()) continue;
      std::string effect =
          fk.on_delete == "CASCADE"    ? "the database deletes its rows with them"
          : fk.on_delete == "SET NULL" ? "the database sets its column to NULL"
          : fk.on_delete == "SET DEFAULT"
              ? "the database sets its column to its default"
              : "a delete of " + target->second->label() + " rows it references fails";
      warnings.push_back("table \"" + table + "\" has no model; its column \"" + fk.column +
                         "\" references " + target->second->label() + " (ON DELETE " +
                         fk.on_delete + "): " + effect + ", and previews cannot show it");
    }
  }
  out << "Database: " << c.describe() << "\n";
  for (const auto& p : problems) out << "error: " << p << "\n";
  for (const auto& w : warnings) out << "warning: " << w << "\n";
  out << problems.size() << " error" << (problems.size() == 1 ? "" : "s") << ", " << warnings.size()
      << " warning" << (warnings.size() == 1 ? "" : "s") << ": "
      << (problems.empty() ? "the schema matches the models, ON DELETE rules included"
                           : "the schema does not match the models")
      << "\n";
  return problems.empty() ? 0 : 1;
}

int inspect_command(db::Connection& c, const Registry& registry,
                    const std::vector<std::string>& only, std::ostream& out) {
  std::vector<const ModelMeta*> models;
  if (only.empty()) {
    models = registry.models();
  } else {
    for (const auto& name : only) models.push_back(&find_model(registry, name));
  }
  auto tables = c.table_names();
  out << "Database: " << c.describe() << "\n";
  for (const ModelMeta* m : models) {
    std::string count;
    if (std::find(tables.begin(), tables.end(), m->db_table) == tables.end()) {
      count = "table missing: run `cascade migrate`";
    } else if (m->soft_deletable()) {
      sql::Statements st(c);
      auto rows =
          sql::query(c, st.select({.columns = sql::Statements::list(
                                       {sql::Statements::count_rows(),
                                        sql::Statements::count_non_null(st.name(kDeletedAtField))}),
                                   .from = st.table(m->db_table)}));
      rows->next();
      auto all = rows->get(0).as_integer();
      auto deleted = rows->get(1).as_integer();
      count = fmt::format("{} live row{}, {} soft-deleted", all - deleted,
                          all - deleted == 1 ? "" : "s", deleted);
    } else {
      auto rows = sql::query(c, sql::Statements(c).count(m->db_table, {}));
      rows->next();
      auto n = rows->get(0).as_integer();
      count = fmt::format("{} row{}", n, n == 1 ? "" : "s");
    }
    out << "\n"
        << m->label() << (m->auto_created ? " (auto-created through model)" : "") << "  table \""
        << m->db_table << "\", " << count << "\n";
    if (!m->auto_created) {
      out << "  delete policy: " << delete_policy_name(m->delete_policy) << " ("
          << policy_meaning(m->delete_policy) << ")\n";
    }
    std::size_t width = 0;
    for (const auto& f : m->fields) width = std::max(width, f.name.size());
    for (const auto& f : m->many_to_many) width = std::max(width, f.name.size());
    for (const auto& f : m->private_fields) width = std::max(width, f.name.size());
    for (const auto& f : m->fields) {
      out << fmt::format("  {:<{}}  {}{}\n", f.name, width, describe_field(f),
                         m->is_local(f) ? "" : " (inherited from " + f.model->label() + ")");
    }
    for (const auto& f : m->many_to_many) {
      out << fmt::format("  {:<{}}  {}\n", f.name, width, describe_field(f));
    }
    for (const auto& f : m->private_fields) {
      out << fmt::format("  {:<{}}  {}\n", f.name, width, describe_field(f));
    }
    for (const auto& rel : m->related_objects) {
      const Field& f = *rel.field;
      std::string accessor = f.related_accessor_name();
      std::string rule = f.type == FieldType::ManyToMany
                             ? std::string("many_to_many")
                             : "on_delete=" + std::string(on_delete_name(f.on_delete));
      const ModelMeta& to = f.target->concrete_model();
      out << fmt::format("  <- {}.{}  {}{}{}\n", f.model->label(), f.name, rule,
                         accessor.empty() ? "" : ", reverse accessor " + accessor,
                         &to == &m->concrete_model() ? "" : " (inherited from " + to.label() + ")");
    }
  }
  return 0;
}

}  // namespace cascade::cli
