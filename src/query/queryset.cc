#include "cascade/query/queryset.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/mapping.h"
#include "sql/path.h"
#include "sql/query.h"
#include "sql/compiler.h"

#include "sql/rows.h"

namespace cascade {
namespace {

// Django's get() reads at most this many rows to report how many matched.
constexpr std::int64_t kMaxGetResults = 21;

std::string reverse_term(const std::string& term) {
  if (term == "?") return term;
  return !term.empty() && term.front() == '-' ? term.substr(1) : "-" + term;
}

// The readable name of a C++ type ("blog::Post").
std::string type_name(const std::type_index& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return out;
}

}  // namespace

Q resolve_mapped(const Q& q, const Registry& registry, const ModelMeta& model) {
  if (!q.has_mapped()) return q;
  return q.with_args([&](const std::string& name, const Arg& arg) -> Arg {
    if (!arg.is_mapped()) return arg;
    const detail::MappedArg& mapped = arg.mapped();
    // A lookup ending at a foreign key compares what its column holds: the to_field's value.
    const Field* held = nullptr;
    try {
      query::ResolvedPath path = query::resolve_path(model, name, true);
      if (path.ends_at_relation && path.field != nullptr && path.field->is_foreign_key() &&
          path.field->target_field != nullptr && !path.field->target_field->primary_key) {
        held = path.field->target_field;
      }
    } catch (const Error&) {
      // A bad path: sql::validate() reports it with Django's message.
    }
    auto key = [&](const Instance& inst) { return held ? inst.get(held->name) : inst.pk(); };
    std::vector<Value> pks;
    if (mapped.type == std::type_index(typeid(Instance))) {
      for (const auto& object : mapped.objects) {
        pks.push_back(key(*static_cast<const Instance*>(object.get())));
      }
    } else {
      if (!registry.bound(mapped.type)) {
        throw TypeError("a " + type_name(mapped.type) +
                        " is not a model object: no define<>() maps its type on this registry");
      }
      const detail::TypedBinding& binding = registry.binding(mapped.type);
      const ModelMeta& meta = registry.get(binding.label);
      for (const auto& object : mapped.objects) {
        Instance inst(meta);
        binding.store(object.get(), inst);
        pks.push_back(key(inst));
      }
    }
    if (mapped.list) return Arg(std::move(pks));
    return Arg(std::move(pks.front()));
  });
}

// ---- construction and chaining -------------------------------------------------------------

QuerySet::QuerySet(Context& db, const ModelMeta& model, Visibility visibility) {
  auto state = std::make_shared<detail::QueryState>();
  state->db = &db;
  state->model = &model;
  state->visibility = model.soft_deletable() ? visibility : Visibility::Live;
  state_ = std::move(state);
}

QuerySet::QuerySet(std::shared_ptr<const detail::QueryState> state) : state_(std::move(state)) {}

const ModelMeta& QuerySet::model() const noexcept { return *state_->model; }
QuerySet::Visibility QuerySet::visibility() const noexcept { return state_->visibility; }
Context& QuerySet::database() const noexcept { return *state_->db; }
QuerySet::ResultKind QuerySet::result_kind() const noexcept { return state_->kind; }
const std::vector<std::string>& QuerySet::value_names() const noexcept {
  return state_->value_fields;
}

QuerySet QuerySet::with(const std::function<void(detail::QueryState&)>& change) const {
  auto copy = std::make_shared<detail::QueryState>(*state_);
  change(*copy);
  return QuerySet(std::shared_ptr<const detail::QueryState>(std::move(copy)));
}

QuerySet QuerySet::all() const { return *this; }

QuerySet QuerySet::filter(const Q& given) const {
  if (state_->sliced()) throw TypeError("Cannot filter a query once a slice has been taken.");
  Q q = resolve_mapped(given, database().registry(), model());
  sql::validate(model(), q);
  if (q.empty()) return *this;
  return with([&](detail::QueryState& s) { s.filters.push_back(std::move(q)); });
}

QuerySet QuerySet::exclude(const Q& given) const {
  if (state_->sliced()) throw TypeError("Cannot filter a query once a slice has been taken.");
  Q q = resolve_mapped(given, database().registry(), model());
  sql::validate(model(), q);
  if (q.empty()) return *this;
  return with([&](detail::QueryState& s) { s.filters.push_back(~q); });
}

QuerySet QuerySet::order_by(std::vector<std::string> fields) const {
  if (state_->sliced()) throw TypeError("Cannot reorder a query once a slice has been taken.");
  sql::validate_ordering(model(), fields);
  return with([&](detail::QueryState& s) { s.ordering = std::move(fields); });
}

QuerySet QuerySet::distinct() const {
  if (state_->sliced()) {
    throw TypeError("Cannot create distinct fields once a slice has been taken.");
  }
  return with([](detail::QueryState& s) { s.distinct = true; });
}

namespace {
// a + b for non-negative offsets, saturating: no database has that many rows, and Python's
// unbounded ints give an empty slice there rather than an overflow.
std::int64_t add_offsets(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<std::int64_t>::max() : sum;
}
}  // namespace

QuerySet QuerySet::slice(std::int64_t start, std::optional<std::int64_t> stop) const {
  if (start < 0 || (stop && *stop < 0)) throw ValueError("Negative indexing is not supported.");
  return with([&](detail::QueryState& s) {
    // Slicing a sliced query narrows it (Django's set_limits).
    std::optional<std::int64_t> high =
        s.limit ? std::optional<std::int64_t>(add_offsets(s.offset, *s.limit)) : std::nullopt;
    std::int64_t new_low = add_offsets(s.offset, start);
    std::optional<std::int64_t> new_high = high;
    if (stop) {
      new_high =
          high ? std::min(*high, add_offsets(s.offset, *stop)) : add_offsets(s.offset, *stop);
    }
    if (new_high) new_low = std::min(new_low, *new_high);
    s.offset = new_low;
    s.limit = new_high ? std::optional<std::int64_t>(*new_high - new_low) : std::nullopt;
  });
}

namespace {
void check_value_fields(const ModelMeta& m, const std::vector<std::string>& fields) {
  for (const auto& f : fields) query::resolve_path(m, f, false);
}
// Django's concrete_fields order: a multi-table parent's fields first, then the model's own
// (its parent link first).
std::vector<std::string> default_value_names(const ModelMeta& m) {
  std::vector<std::string> names;
  if (const ModelMeta* parent = m.parent()) names = default_value_names(*parent);
  for (const auto& f : m.local_fields()) names.push_back(f.attname());
  return names;
}
}  // namespace

QuerySet QuerySet::values(std::vector<std::string> fields) const {
  check_value_fields(model(), fields);
  if (fields.empty()) fields = default_value_names(model());
  return with([&](detail::QueryState& s) {
    s.kind = ResultKind::Dicts;
    s.value_fields = std::move(fields);
  });
}

QuerySet QuerySet::values_list(std::vector<std::string> fields, bool flat) const {
  if (flat && fields.size() > 1) {
    throw TypeError("'flat' is not valid when values_list is called with more than one field.");
  }
  check_value_fields(model(), fields);
  // flat=True without fields gives the first column, the primary key (as Django).
  if (fields.empty())
    fields = flat ? std::vector<std::string>{model().pk().column} : default_value_names(model());
  return with([&](detail::QueryState& s) {
    s.kind = flat ? ResultKind::Flat : ResultKind::Tuples;
    s.value_fields = std::move(fields);
  });
}

// ---- evaluation ----------------------------------------------------------------------------

std::pair<std::string, std::vector<Value>> QuerySet::sql() const {
  auto compiled = sql::compile_select(database().connection(), *state_, sql::SelectMode::Rows);
  return {compiled.sql, compiled.params};
}

bool QuerySet::is_empty() const {
  return sql::compile_select(database().connection(), *state_, sql::SelectMode::Rows).empty;
}

QuerySet::Cursor::Cursor(const QuerySet& qs) : model_(&qs.model()) {
  auto& c = qs.database().connection();
  auto compiled = sql::compile_select(c, qs.state(), sql::SelectMode::Rows);
  if (compiled.empty) return;
  rows_ = c.query(compiled.sql, compiled.params);
  columns_ = qs.result_kind() == ResultKind::Instances ? static_cast<int>(model_->fields.size())
                                                       : static_cast<int>(qs.value_names().size());
}

QuerySet::Cursor::~Cursor() = default;
QuerySet::Cursor::Cursor(Cursor&&) noexcept = default;
QuerySet::Cursor& QuerySet::Cursor::operator=(Cursor&&) noexcept = default;

std::optional<Instance> QuerySet::Cursor::next() {
  if (!rows_ || !rows_->next()) return std::nullopt;
  return sql::read_instance(*model_, *rows_);
}

std::optional<std::vector<Value>> QuerySet::Cursor::next_row() {
  if (!rows_ || !rows_->next()) return std::nullopt;
  std::vector<Value> row;
  row.reserve(static_cast<std::size_t>(columns_));
  for (int i = 0; i < columns_; ++i) row.push_back(rows_->get(i));
  return row;
}

QuerySet::iterator::iterator(std::shared_ptr<Cursor> cursor) : cursor_(std::move(cursor)) {
  current_ = cursor_->next();
}

QuerySet::iterator& QuerySet::iterator::operator++() {
  current_ = cursor_->next();
  return *this;
}

QuerySet::iterator QuerySet::begin() const {
  if (result_kind() != ResultKind::Instances) {
    throw TypeError("iterate rows() of a values() QuerySet, not instances");
  }
  return iterator(std::make_shared<Cursor>(*this));
}

std::vector<Instance> QuerySet::fetch() const {
  if (result_kind() != ResultKind::Instances) {
    throw TypeError("fetch() gives instances; use rows() after values() / values_list()");
  }
  std::vector<Instance> out;
  Cursor cur(*this);
  while (auto inst = cur.next()) out.push_back(std::move(*inst));
  return out;
}

std::vector<std::vector<Value>> QuerySet::rows() const {
  std::vector<std::vector<Value>> out;
  Cursor cur(*this);
  // Values come back converted to the fields' kinds (bools and dates from SQLite's storage).
  std::vector<const Field*> fields;
  if (result_kind() == ResultKind::Instances) {
    for (const auto& f : model().fields) fields.push_back(&f);
  } else {
    for (const auto& name : value_names()) {
      fields.push_back(query::resolve_path(model(), name, false).field);
    }
  }
  while (auto row = cur.next_row()) {
    for (std::size_t i = 0; i < row->size(); ++i) (*row)[i] = fields[i]->to_python((*row)[i]);
    out.push_back(std::move(*row));
  }
  return out;
}

Instance QuerySet::get(const Q& q) const {
  QuerySet clone = q.empty() ? *this : filter(q);
  if (!state_->sliced()) {
    clone = clone.with([](detail::QueryState& s) {
      s.ordering = std::vector<std::string>{};
      s.limit = kMaxGetResults;
    });
  }
  auto found = clone.with([](detail::QueryState& s) { s.kind = ResultKind::Instances; }).fetch();
  if (found.size() == 1) return std::move(found.front());
  if (found.empty()) throw DoesNotExist(model().label(), model().object_name);
  throw MultipleObjectsReturned(model().label(), model().object_name,
                                static_cast<std::int64_t>(found.size()));
}

namespace {
bool is_ordered(const detail::QueryState& s) {
  return s.ordering ? !s.ordering->empty() : !s.model->ordering.empty();
}
}  // namespace

std::optional<Instance> QuerySet::first() const {
  QuerySet qs = is_ordered(*state_) ? *this : order_by({"pk"});
  auto found = qs.slice(0, 1).fetch();
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::optional<Instance> QuerySet::last() const {
  if (state_->sliced()) throw TypeError("Cannot reverse a query once a slice has been taken.");
  std::vector<std::string> reversed;
  if (is_ordered(*state_)) {
    for (const auto& t : state_->ordering ? *state_->ordering : model().ordering) {
      reversed.push_back(reverse_term(t));
    }
  } else {
    reversed.push_back("-pk");
  }
  auto found = order_by(reversed).slice(0, 1).fetch();
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

Instance QuerySet::at(std::int64_t index) const {
  if (index < 0) throw ValueError("Negative indexing is not supported.");
  auto found = slice(index, add_offsets(index, 1)).fetch();
  if (found.empty()) throw IndexError("list index out of range");
  return std::move(found.front());
}

std::int64_t QuerySet::count() const {
  auto& c = database().connection();
  auto compiled = sql::compile_select(c, *state_, sql::SelectMode::Count);
  if (compiled.empty) return 0;
  auto rows = c.query(compiled.sql, compiled.params);
  rows->next();
  return rows->get(0).as_integer();
}

bool QuerySet::exists() const {
  auto& c = database().connection();
  auto compiled = sql::compile_select(c, *state_, sql::SelectMode::Exists);
  if (compiled.empty) return false;
  return c.query(compiled.sql, compiled.params)->next();
}

std::map<Value, Instance> QuerySet::in_bulk(const std::optional<std::vector<Value>>& keys,
                                            std::string_view field_name) const {
  if (state_->sliced()) throw TypeError("Cannot use 'limit' or 'offset' with in_bulk().");
  const Field& f = field_name == "pk" ? model().pk() : model().get_field(field_name);
  if (!f.primary_key && !f.unique) {
    throw ValueError("in_bulk()'s field_name must be a unique field but '" +
                     std::string(field_name) + "' isn't.");
  }
  std::map<Value, Instance> out;
  std::size_t index = *model().field_index(f.name);
  auto collect = [&](const QuerySet& qs) {
    for (const Instance& inst : qs) out.emplace(inst.at(index), inst);
  };
  QuerySet base = with([](detail::QueryState& s) { s.kind = ResultKind::Instances; });
  if (!keys) {
    collect(base);
    return out;
  }
  // Batches sized to the backend's limit on parameters.
  auto batch =
      static_cast<std::size_t>(std::max(1, database().connection().features().max_query_params));
  for (std::size_t start = 0; start < keys->size(); start += batch) {
    std::vector<Value> part(
        keys->begin() + static_cast<std::ptrdiff_t>(start),
        keys->begin() + static_cast<std::ptrdiff_t>(std::min(keys->size(), start + batch)));
    collect(base.filter(Q(f.name + "__in", Arg(std::move(part)))));
  }
  return out;
}

std::int64_t QuerySet::update(
    std::initializer_list<std::pair<std::string_view, Value>> values) const {
  std::vector<std::pair<std::string, Value>> v;
  for (const auto& [k, val] : values) v.emplace_back(std::string(k), val);
  return update(v);
}

std::int64_t QuerySet::update(const std::vector<std::pair<std::string, Value>>& values) const {
  auto& c = database().connection();
  // A multi-table child's fields from its parents are in the parents' tables: one UPDATE per
  // table, each on the rows matched before any is written (Django's related updates).
  const ModelMeta& m = model();
  std::vector<std::pair<std::string, Value>> own;
  std::vector<std::pair<const ModelMeta*, std::vector<std::pair<std::string, Value>>>> parents;
  for (const auto& [name, value] : values) {
    const Field* f = m.find_field(name);
    if (f == nullptr || !f->is_concrete() || m.is_local(*f)) {
      own.emplace_back(name, value);
      continue;
    }
    auto it = std::find_if(parents.begin(), parents.end(),
                           [&](const auto& p) { return p.first == f->model; });
    if (it == parents.end()) it = parents.insert(parents.end(), {f->model, {}});
    it->second.emplace_back(f->name, value);
  }
  if (parents.empty()) {
    auto compiled = sql::compile_update(c, *state_, values);
    if (compiled.empty) return 0;
    return c.execute(compiled.sql, compiled.params);
  }
  if (state_->sliced()) throw TypeError("Cannot update a query once a slice has been taken.");
  return db::atomic(c, db::Atomic::Mode::Immediate, [&] {
    std::vector<Value> pks;
    for (const auto& row : values_list({"pk"}, true).rows()) pks.push_back(row[0]);
    // Django's count: the model's own rows, else those of the first parent table written.
    std::optional<std::int64_t> count;
    auto write = [&](const ModelMeta& table, const std::vector<std::pair<std::string, Value>>& v) {
      constexpr std::size_t kChunk = 500;
      std::int64_t rows = 0;
      for (std::size_t i = 0; i < pks.size(); i += kChunk) {
        std::vector<Value> chunk(
            pks.begin() + static_cast<std::ptrdiff_t>(i),
            pks.begin() + static_cast<std::ptrdiff_t>(std::min(pks.size(), i + kChunk)));
        rows += QuerySet(database(), table, Visibility::All)
                    .filter(Q("pk__in", Arg(std::move(chunk))))
                    .update(v);
      }
      if (!count) count = rows;
    };
    if (!own.empty()) write(m, own);
    for (const auto& [table, v] : parents) write(*table, v);
    if (pks.empty() && !own.empty()) sql::compile_update(c, *state_, own);  // checks the names
    return *count;
  });
}

}  // namespace cascade
