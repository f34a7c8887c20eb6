#include "cli/inspectdb.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "cascade/model/model_meta.h"
#include "cascade/deletion/audit.h"
#include "cascade/model/registry.h"
#include "cascade/web/auth.h"
#include "cascade/web/session.h"
#include "cascade/error.h"
#include "cascade/value.h"
#include "model/naming.h"

namespace cascade::cli {
namespace {

// Django's table2model: "blog_post" -> "BlogPost".
std::string model_name(const std::string& table) {
  std::string out;
  bool upper = true;
  for (char c : table) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "Table" + out;
  return out;
}

// A valid field name for a column, Django-style ("author_id" -> "author" for a relation).
std::string field_name(std::string column, bool relation) {
  if (relation && column.size() > 3 && column.compare(column.size() - 3, 3, "_id") == 0) {
    column.resize(column.size() - 3);
  }
  std::string out;
  for (char c : column) {
    out += std::isalnum(static_cast<unsigned char>(c))
               ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
               : '_';
  }
  while (out.find("__") != std::string::npos) out.replace(out.find("__"), 2, "_");
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "field_" + out;
  // Names the shell (Python's grammar) cannot write as keyword arguments or attributes.
  static const std::set<std::string> kReserved = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield",    "pk"};
  if (kReserved.count(out)) out += "_field";
  return out;
}

bool has_column(db::Connection& c, const std::string& table, const std::string& name) {
  auto columns = c.columns(table);
  return std::any_of(columns.begin(), columns.end(),
                     [&](const auto& col) { return col.name == name; });
}

// A TOML basic string, escaped by toml11 (control characters included).
std::string quote(const std::string& s) { return toml::format(toml::value(s)); }

// The models-file type for a column's declared type; empty when unknown.
std::string type_for(const std::string& declared, int* max_length) {
  std::string t = declared;
  auto paren = t.find('(');
  std::string base = paren == std::string::npos ? t : t.substr(0, paren);
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (base == "varchar" || base == "character varying" || base == "char" || base == "character" ||
      base == "nvarchar" || base == "varying character") {
    if (paren != std::string::npos) {
      *max_length = std::atoi(t.c_str() + paren + 1);
      if (*max_length > 0) return "char";
    }
    return "text";
  }
  if (base == "text" || base.empty() || base == "clob") return "text";
  if (base == "integer" || base == "int" || base == "int4" || base == "smallint" ||
      base == "int2" || base == "mediumint" || base == "tinyint") {
    return "integer";
  }
  if (base == "bigint" || base == "int8") return "big_integer";
  if (base == "real" || base == "double precision" || base == "double" || base == "float" ||
      base == "float8" || base == "float4") {
    return "float";
  }
  if (base == "numeric" || base == "decimal") return "decimal";  // read as a float, see below
  if (base == "bool" || base == "boolean") return "boolean";
  if (base == "date") return "date";
  if (base == "datetime" || base.rfind("timestamp", 0) == 0) return "datetime";
  return {};
}

}  // namespace

std::string inspect_database(db::Connection& c, const std::string& url, const std::string& app,
                             const std::vector<std::string>& only) {
  if (auto problem = naming::identifier_problem(app)) {
    throw ConfigError("app label " + python_repr(app) + ": " + *problem);
  }
  std::vector<std::string> tables = c.table_names();
  for (const auto& t : only) {
    if (std::find(tables.begin(), tables.end(), t) == tables.end()) {
      throw Error("no table named " + python_repr(t) + " in the database");
    }
  }
  if (!only.empty()) tables = only;
  // Tables with one primary-key column become models; the others cannot name a row by one key
  // (Cascade, as Django before 5.2, has no composite keys) and are described in comments.
  std::map<std::string, std::string> model_of;
  std::map<std::string, std::string> pk_of;    // table -> its primary-key column
  std::map<std::string, std::string> skipped;  // table -> why it has no model
  std::set<std::string> used;
  // Cascade's own tables are not the application's data: table -> what it holds.
  std::map<std::string, std::string> own{
      {web::session_model().db_table, "the web server's sessions"}};
  for (const ModelMeta* m : web::auth_registry().models()) {
    own[m->db_table] = "the admin's users, groups and permissions";
  }
  for (const ModelMeta* m : AuditLog::registry().models()) own[m->db_table] = "the audit log";
  for (const auto& t : c.table_names()) {
    if (own.count(t)) continue;
    std::vector<std::string> keys;
    for (const auto& col : c.columns(t)) {
      if (col.primary_key) keys.push_back(col.name);
    }
    if (keys.empty()) {
      skipped[t] = "it has no primary key";
      continue;
    }
    if (keys.size() > 1) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      skipped[t] =
          "its primary key has several columns (" + list + "), and Cascade has no composite keys";
      continue;
    }
    pk_of[t] = keys.front();
    if (t == "django_content_type" && has_column(c, t, "app_label") && has_column(c, t, "model")) {
      model_of[t] = kContentTypeLabel;  // Django's content types: the built-in model
      continue;
    }
    std::string m = model_name(t);
    while (!used.insert(m).second) m += "_";
    model_of[t] = m;
  }
  // Whether `column` of `table` holds unique values: the primary key or a one-column unique
  // index (a foreign key to it is a to_field relation).
  auto unique_column = [&](const std::string& table, const std::string& column) {
    if (pk_of.count(table) && pk_of[table] == column) return true;
    for (const auto& idx : c.indexes(table)) {
      if (idx.unique && !idx.partial && idx.columns.size() == 1 && idx.columns[0] == column) {
        return true;
      }
    }
    return false;
  };
  // Guessed many-to-many relations: a table holding its key and two foreign keys to models'
  // primary keys, unique together, is a through table; the model of the first key's table gets
  // a many_to_many field through it. owner table -> the fields' lines.
  std::map<std::string, std::vector<std::string>> guessed_m2m;
  std::map<std::string, std::string> through_note;  // through table -> what was guessed
  for (const auto& [table, model] : model_of) {
    if (!only.empty() && std::find(only.begin(), only.end(), table) == only.end()) continue;
    auto columns = c.columns(table);
    if (columns.size() != 3) continue;
    std::vector<const db::ForeignKeyInfo*> keys;
    auto fks = c.foreign_keys(table);
    for (const auto& col : columns) {
      if (col.primary_key) continue;
      for (const auto& fk : fks) {
        if (fk.column == col.name && model_of.count(fk.target_table) &&
            (fk.target_column.empty() || fk.target_column == pk_of[fk.target_table])) {
          keys.push_back(&fk);
        }
      }
    }
    if (keys.size() != 2) continue;
    bool unique_pair = false;
    for (const auto& idx : c.indexes(table)) {
      std::set<std::string> cols(idx.columns.begin(), idx.columns.end());
      unique_pair = unique_pair || (idx.unique && !idx.partial && cols.size() == 2 &&
                                    cols.count(keys[0]->column) && cols.count(keys[1]->column));
    }
    if (!unique_pair) continue;
    const std::string& owner = keys[0]->target_table;
    const std::string& other = keys[1]->target_table;
    std::string name = model_of[other];
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    name += "s";
    std::set<std::string> taken;
    for (const auto& col : c.columns(owner)) {
      taken.insert(col.name);
      taken.insert(field_name(col.name, true));
      taken.insert(field_name(col.name, false));
    }
    for (const auto& line : guessed_m2m[owner]) taken.insert(line.substr(7, line.find(' ') - 7));
    while (taken.count(name)) name += "_m2m";
    std::string line = "fields." + name +
                       " = { type = \"many_to_many\", to = " + quote(model_of[other]) +
                       ", through = " + quote(model);
    // A direct key from the owner to the other side has the default reverse accessor already.
    bool direct = false;
    for (const auto& fk : c.foreign_keys(owner)) direct = direct || fk.target_table == other;
    if (direct || owner == other) {
      std::string related = model_of[owner] + "_" + name + "_set";
      std::transform(related.begin(), related.end(), related.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      line += ", related_name = " + quote(related);
    }
    line += " }  # guessed: table " + quote(table) + " links two keys, unique together";
    guessed_m2m[owner].push_back(line);
    through_note[table] = "# Guessed: the through table of " + model_of[owner] + "." + name +
                          " (a many-to-many to " + model_of[other] +
                          "): two keys, unique "
                          "together.\n";
  }
  std::ostringstream out;
  out << "# Written by `cascade inspectdb` from " << c.describe() << ".\n"
      << "# Review it. on_delete follows the database's ON DELETE: CASCADE -> DB_CASCADE, SET "
         "NULL\n"
      << "# -> DB_SET_NULL, RESTRICT -> RESTRICT (Cascade refuses first, naming the rows), NO "
         "ACTION\n"
      << "# -> DO_NOTHING (a delete that leaves such a reference fails; previews say so). Change\n"
      << "# them to the rules Cascade should carry out (CASCADE, PROTECT, SET_NULL...).\n\n"
      << "[database]\nurl = " << quote(url) << "\n";
  for (const auto& table : tables) {
    if (auto it = model_of.find(table); it != model_of.end() && it->second == kContentTypeLabel) {
      out << "\n# Table " << quote(table) << " holds Django's content types: the built-in model "
          << kContentTypeLabel << ",\n# which generic relations use (no model here).\n";
      continue;
    }
    if (auto it = own.find(table); it != own.end()) {
      out << "\n# Table " << quote(table) << " is Cascade's own (" << it->second
          << "): no model.\n";
      continue;
    }
    if (auto why = skipped.find(table); why != skipped.end()) {
      out << "\n# Table " << quote(table) << " has no model: " << why->second << ".\n"
          << "# Its rows cannot be listed or deleted one by one; a foreign key of it that\n"
          << "# references rows a delete removes still makes that delete fail (see `cascade "
             "check`).\n";
      continue;
    }
    auto columns = c.columns(table);
    auto fks = c.foreign_keys(table);
    auto indexes = c.indexes(table);
    // A key becomes a relation when it references a model's primary key; else it stays a plain
    // column (a reference to a table without a model, or to another column: to_field).
    std::map<std::string, const db::ForeignKeyInfo*> fk_of;
    std::map<std::string, std::string> plain_reference;  // column -> why it is no relation
    std::map<std::string, std::string> to_field_of;      // column -> the target's field
    std::map<std::string, int> targets;
    std::string mti_parent;  // the model this table's model is a multi-table child of
    for (const auto& fk : fks) {
      if (!model_of.count(fk.target_table)) {
        plain_reference[fk.column] =
            "references table " + quote(fk.target_table) + ", which has no model";
        continue;
      }
      if (pk_of.count(table) && fk.column == pk_of[table]) {
        // Django's multi-table inheritance: the primary key is the parent link
        // "<parent>_ptr_id", a key to the parent's primary key.
        std::string parent = model_of[fk.target_table];
        std::string link = parent;
        std::transform(link.begin(), link.end(), link.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        link += "_ptr_id";
        bool to_pk = fk.target_column.empty() || fk.target_column == pk_of[fk.target_table];
        if (fk.column == link && to_pk && fk.on_delete == "NO ACTION") {
          mti_parent = parent;
          continue;
        }
        std::string unlike = fk.column != link || !to_pk
                                 ? "Django names that key " + link + " and points it at " +
                                       fk.target_table + "'s primary key"
                                 : "its ON DELETE is " + fk.on_delete + ", Django's has none";
        plain_reference[fk.column] = "is the primary key and references " + fk.target_table +
                                     ": perhaps Django's multi-table inheritance (a child of " +
                                     parent + "), but " + unlike +
                                     "; kept as a plain primary key, review";
        continue;
      }
      if (!fk.target_column.empty() && fk.target_column != pk_of[fk.target_table]) {
        bool target_is_relation = false;
        for (const auto& tfk : c.foreign_keys(fk.target_table)) {
          target_is_relation = target_is_relation || tfk.column == fk.target_column;
        }
        if (!unique_column(fk.target_table, fk.target_column) || target_is_relation) {
          plain_reference[fk.column] = "references " + fk.target_table + "." + fk.target_column +
                                       ", which is neither its primary key nor a unique column";
          continue;
        }
        to_field_of[fk.column] = field_name(fk.target_column, false);
      }
      fk_of[fk.column] = &fk;
      ++targets[fk.target_table];
    }
    std::set<std::string> unique_columns;
    std::vector<std::vector<std::string>> unique_groups;
    for (const auto& idx : indexes) {
      if (!idx.unique || idx.partial) continue;
      if (idx.columns.size() == 1) {
        unique_columns.insert(idx.columns[0]);
      } else {
        unique_groups.push_back(idx.columns);
      }
    }
    out << "\n";
    if (auto note = through_note.find(table); note != through_note.end()) out << note->second;
    // Django's GenericForeignKey with its default names: a key "content_type" to the content
    // types and an "object_id" column (a GenericRelation leaves no trace in the database).
    bool generic_key = false;
    if (auto ct = fk_of.find("content_type_id");
        ct != fk_of.end() && model_of[ct->second->target_table] == kContentTypeLabel) {
      for (const auto& col : columns) {
        if (col.name != "object_id" || fk_of.count(col.name) || col.primary_key) continue;
        int length = 0;
        std::string type = type_for(col.type, &length);
        generic_key = type == "integer" || type == "big_integer" || type == "char" ||
                      type == "text";
      }
    }
    if (generic_key) {
      out << "# Guessed: Django's GenericForeignKey \"content_object\" over content_type and "
             "object_id.\n# Models whose rows it refers to may declare a generic_relation to "
             "this model\n# (the database does not say which).\n";
    }
    if (!mti_parent.empty()) {
      out << "# Guessed: Django's multi-table inheritance, a child of " << mti_parent
          << " (its primary key\n# " << quote(pk_of[table]) << " is the parent link).\n";
    }
    out << "[models." << app << "." << model_of[table] << "]\n"
        << "db_table = " << quote(table) << "\n";
    if (!mti_parent.empty()) out << "bases = [" << quote(mti_parent) << "]\n";
    std::map<std::string, std::string> name_of;  // column -> field name
    std::set<std::string> names;
    std::ostringstream fields;
    for (const auto& col : columns) {
      bool relation = fk_of.count(col.name) != 0;
      std::string name = field_name(col.name, relation);
      while (!names.insert(name).second) name += "_field";
      name_of[col.name] = name;
      if (col.primary_key && col.name == "id" && !relation &&
          (col.type == "integer" || col.type == "bigint" || col.type == "int")) {
        continue;  // Cascade's (and Django's) automatic "id"
      }
      if (col.primary_key && !mti_parent.empty()) continue;  // the automatic parent link
      std::vector<std::string> opts;
      std::string comment;
      std::string column_default = relation ? name + "_id" : name;
      if (relation) {
        const auto& fk = *fk_of[col.name];
        opts.push_back("type = \"foreign_key\"");
        auto target = model_of.find(fk.target_table);
        opts.push_back("to = " + quote(target != model_of.end() ? target->second
                                                                : model_name(fk.target_table)));
        std::string rule = fk.on_delete == "CASCADE"                     ? "DB_CASCADE"
                           : fk.on_delete == "SET NULL" && !col.not_null ? "DB_SET_NULL"
                           : fk.on_delete == "RESTRICT"                  ? "RESTRICT"
                                                                         : "DO_NOTHING";
        if (fk.on_delete != "CASCADE" && fk.on_delete != "RESTRICT" &&
            fk.on_delete != "NO ACTION" && rule == "DO_NOTHING") {
          comment = "  # ON DELETE " + fk.on_delete + " in the database: review";
        }
        opts.push_back("on_delete = " + quote(rule));
        if (auto tf = to_field_of.find(col.name); tf != to_field_of.end()) {
          opts.push_back("to_field = " + quote(tf->second));
        }
        if (targets[fk.target_table] > 1 || fk.target_table == table) {
          opts.push_back("related_name = " + quote(model_of[table] + "_" + name + "_set"));
          std::transform(opts.back().begin(), opts.back().end(), opts.back().begin(),
                         [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        }
      } else {
        int max_length = 0;
        std::string type = type_for(col.type, &max_length);
        if (type.empty()) {
          comment = "  # unknown column type '" + col.type + "': read as text";
          type = "text";
        }
        if (col.type == "timestamp without time zone" || col.type == "timestamp") {
          comment = "  # " + col.type + " in the database: its times are read as UTC";
        }
        if (type == "decimal") {
          comment = "  # " + col.type + " in the database: read as a float (no decimal field yet)";
          type = "float";
        }
        if (auto why = plain_reference.find(col.name); why != plain_reference.end()) {
          comment = "  # a foreign key that " + why->second;
        }
        opts.push_back("type = " + quote(type));
        if (type == "char") opts.push_back("max_length = " + std::to_string(max_length));
        if (col.primary_key) opts.push_back("primary_key = true");
      }
      if (!col.not_null && !col.primary_key) opts.push_back("null = true");
      if (unique_columns.count(col.name) && !col.primary_key) opts.push_back("unique = true");
      if (col.name != column_default) opts.push_back("db_column = " + quote(col.name));
      fields << "fields." << name << " = { ";
      for (std::size_t i = 0; i < opts.size(); ++i) fields << (i ? ", " : "") << opts[i];
      fields << " }" << comment << "\n";
    }
    if (!unique_groups.empty()) {
      out << "unique_together = [";
      for (std::size_t g = 0; g < unique_groups.size(); ++g) {
        out << (g ? ", " : "") << "[";
        for (std::size_t i = 0; i < unique_groups[g].size(); ++i) {
          out << (i ? ", " : "") << quote(name_of[unique_groups[g][i]]);
        }
        out << "]";
      }
      out << "]\n";
    }
    for (const auto& line : guessed_m2m[table]) fields << line << "\n";
    if (generic_key) {
      std::string name = "content_object";
      while (!names.insert(name).second) name += "_field";
      fields << "fields." << name << " = { type = \"generic_foreign_key\" }  # guessed\n";
    }
    std::string f = fields.str();
    out << (f.empty() ? "fields = {}\n" : f);
  }
  return out.str();
}

}  // namespace cascade::cli
