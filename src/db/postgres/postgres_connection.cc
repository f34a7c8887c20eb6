#include "db/postgres/postgres_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <deque>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "cascade/error.h"
#include "cascade/model/field.h"
#include "cascade/model/model_meta.h"

namespace cascade::db {
namespace {

// Type OIDs (pg_type.h).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700, kDate = 1082, kTimestamp = 1114, kTimestampTz = 1184;
constexpr std::size_t kStatementCacheSize = 256;

std::string percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int v = 0;
      if (i + 2 >= s.size()) {
        throw ConfigError("PostgreSQL URL: bad percent-encoding in the " + std::string(what));
      }
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) {
        throw ConfigError("PostgreSQL URL: bad percent-encoding in the " + std::string(what));
      }
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Maps a failed result to Django's exception classes by SQLSTATE class.
[[noreturn]] void throw_result(PGconn* conn, const PGresult* res, const std::string& where) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  std::string message = trim(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (message.rfind("ERROR:  ", 0) == 0) message = message.substr(8);
  if (PQstatus(conn) == CONNECTION_BAD) {
    throw OperationalError(
        "the connection to the PostgreSQL server at " + where + " was lost: " + message, 0,
        sqlstate);
  }
  std::string cls = sqlstate.substr(0, 2);
  if (cls == "23") throw IntegrityError(message, 0, sqlstate);
  if (cls == "42" || cls == "0A") throw ProgrammingError(message, 0, sqlstate);
  if (cls == "22") throw DataError(message, 0, sqlstate);
  // deadlock_detected, lock_not_available, serialization_failure
  if (sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "40001") {
    throw LockError(message, 0, sqlstate);
  }
  if (cls == "08" || cls == "40" || cls == "53" || cls == "55" || cls == "57" || cls == "58") {
    throw OperationalError(message, 0, sqlstate);
  }
  throw DatabaseError(message, 0, sqlstate);
}

std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}

Value decode(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return Value();
  const char* text = PQgetvalue(res, row, col);
  auto length = static_cast<std::size_t>(PQgetlength(res, row, col));
  std::string_view s(text, length);
  switch (PQftype(res, col)) {
    case kBool: return Value(s == "t");
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      std::int64_t v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return Value(v);
    }
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      if (s == "NaN") return Value(std::nan(""));
      if (s == "Infinity") return Value(HUGE_VAL);
      if (s == "-Infinity") return Value(-HUGE_VAL);
      double d = 0;
      std::from_chars(s.data(), s.data() + s.size(), d);
      return Value(d);
    }
    case kBytea: {
      std::size_t n = 0;
      unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
      Blob b(raw, raw + n);
      PQfreemem(raw);
      return Value(std::move(b));
    }
    case kDate:
      if (auto d = Date::parse(s)) return Value(*d);
      return Value(std::string(s));
    case kTimestamp:
    case kTimestampTz:
      if (auto dt = DateTime::parse(s)) return Value(*dt);
      return Value(std::string(s));
    default: return Value(std::string(s));
  }
}

// A query's rows, read one at a time in libpq's single-row mode: memory stays bounded however
// many rows the query returns, as with SQLite's cursors. While a stream is open the connection
// is busy; a statement run meanwhile first reads the rest of the stream into memory (the Rows
// stays valid), so that statements may interleave with an open cursor as they can on SQLite.
class PgStream final : public Rows {
 public:
  // Takes over a query just sent with single-row mode on; `slot` is the connection's pointer to
  // its open stream. Reads the first result, so that an error in the query throws here, as a
  // whole-result read would.
  PgStream(PGconn* conn, PgStream** slot, std::string where)
      : conn_(conn), slot_(slot), where_(std::move(where)) {
    *slot_ = this;
    Result first = read();  // a row, or null at the end (the end marker gave the columns)
    if (!first) return;
    columns_ = PQnfields(first.get());
    ahead_.push_back(std::move(first));
  }
  PgStream(const PgStream&) = delete;
  PgStream& operator=(const PgStream&) = delete;
  ~PgStream() override {
    // The rest must be read before the connection can run anything else; a cancel would abort
    // the surrounding transaction.
    if (*slot_ == this) {
      while (!ended_) (void)read_nothrow();
      *slot_ = nullptr;
    }
  }

  bool next() override {
    if (!ahead_.empty()) {
      current_ = std::move(ahead_.front());
      ahead_.pop_front();
      return true;
    }
    current_.reset();
    if (error_) rethrow();
    if (ended_) return false;
    current_ = read();
    return current_ != nullptr;
  }
  int column_count() const override { return columns_; }
  Value get(int column) const override { return decode(current_.get(), 0, column); }

  // Reads every remaining row into memory and frees the connection.
  void buffer_rest() {
    while (!ended_) {
      Result r = read_nothrow();
      if (r) ahead_.push_back(std::move(r));
    }
  }

 private:
  PGconn* conn_;
  PgStream** slot_;
  std::string where_;
  int columns_ = 0;
  bool ended_ = false;
  Result error_;            // a failure met while buffering, thrown when the reader reaches it
  Result current_;          // the row get() reads
  std::deque<Result> ahead_;  // rows read but not yet reached

  // The next row, or null at the end; throws the query's error.
  Result read() {
    Result r = read_nothrow();
    if (error_) rethrow();
    return r;
  }
  // The next row, or null at the end or on an error (kept in error_).
  Result read_nothrow() {
    while (true) {
      Result r(PQgetResult(conn_));
      if (!r) {
        ended_ = true;
        *slot_ = nullptr;
        return nullptr;
      }
      ExecStatusType status = PQresultStatus(r.get());
      if (status == PGRES_SINGLE_TUPLE) return r;
      if (status == PGRES_TUPLES_OK) {
        if (columns_ == 0) columns_ = PQnfields(r.get());
        continue;  // the end marker; PQgetResult returns null next
      }
      if (!error_) error_ = std::move(r);
    }
  }
  [[noreturn]] void rethrow() {
    while (!ended_) (void)read_nothrow();
    Result e = std::move(error_);
    throw_result(conn_, e.get(), where_);
  }
};

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PostgresUrl url) : url_(std::move(url)) {
    std::vector<const char*> keys = {"port", "dbname", "client_encoding", "connect_timeout"};
    std::string timeout =
        url_.options.count("connect_timeout") ? url_.options.at("connect_timeout") : "10";
    std::vector<const char*> values = {url_.port.c_str(), url_.dbname.c_str(), "UTF8",
                                       timeout.c_str()};
    const std::pair<const char*, const std::string*> given[] = {
        {"host", &url_.host}, {"user", &url_.user}, {"password", &url_.password}};
    for (const auto& [key, value] : given) {
      if (value->empty()) continue;
      keys.push_back(key);
      values.push_back(value->c_str());
    }
    for (const auto& [k, v] : url_.options) {
      if (k == "connect_timeout" || k == "client_encoding") continue;
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? trim(PQerrorMessage(conn_)) : "out of memory";
      if (conn_ != nullptr) PQfinish(conn_);
      conn_ = nullptr;
      throw OperationalError("could not connect to the PostgreSQL server at " + where() +
                             " (database \"" + url_.dbname + "\", user \"" + url_.user +
                             "\"): " + message);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    execute("SET TIME ZONE 'UTC'");
    if (!url_.schema.empty()) execute("SET search_path TO " + quote_name(url_.schema));
    // A parsed integer, not text from the URL.
    if (url_.lock_timeout_ms)
      execute("SET lock_timeout = " + std::to_string(*url_.lock_timeout_ms));
    features_.vendor = "postgresql";
    features_.max_query_params = url_.max_variables;
    features_.can_return_columns_from_insert = true;
    features_.can_defer_constraint_checks = true;
    features_.foreign_keys_inline = false;
    features_.supports_select_for_update = true;
    cancel_ = PQgetCancel(conn_);
  }

  ~PostgresConnection() override {
    if (cancel_ != nullptr) PQfreeCancel(cancel_);
    if (conn_ != nullptr) PQfinish(conn_);
  }

  const Features& features() const noexcept override { return features_; }
  std::string describe() const override { return url_.describe(); }
  // PQcancel is safe in a signal handler with a buffer of its own; the statement fails with
  // 57014 (query_canceled), an OperationalError.
  void interrupt() noexcept override {
    char error[256];
    if (cancel_ != nullptr) PQcancel(cancel_, error, sizeof error);
  }
  std::string placeholder(int n) const override { return "$" + std::to_string(n); }

  std::string value_column_type(const Field& f) const override {
    switch (f.type) {
      case FieldType::Auto: return "bigint";
      case FieldType::Char: return "character varying(" + std::to_string(f.max_length) + ")";
      case FieldType::Text: return "text";
      case FieldType::Integer: return "integer";
      case FieldType::BigInteger: return "bigint";
      case FieldType::Float: return "double precision";
      case FieldType::Boolean: return "boolean";
      case FieldType::Date: return "date";
      case FieldType::DateTime: return "timestamp with time zone";
      case FieldType::ForeignKey:
      case FieldType::OneToOne:
      case FieldType::ManyToMany:
      case FieldType::GenericForeignKey:
      case FieldType::GenericRelation: break;  // Connection::column_type handles these
    }
    throw ProgrammingError("no column type for field '" + f.name + "'");
  }
  std::string auto_increment_clause() const override { return "GENERATED BY DEFAULT AS IDENTITY"; }

  std::string pattern_sql(std::string_view lookup, const std::string& lhs,
                          const std::string& rhs) const override {
    bool insensitive = !lookup.empty() && lookup.front() == 'i';
    if (insensitive) return "UPPER(" + lhs + "::text) LIKE UPPER(" + rhs + ")";
    return lhs + "::text LIKE " + rhs;
  }

  std::string create_temp_table_sql(const std::string& name,
                                    const std::string& columns) const override {
    return "CREATE TEMP TABLE " + quote_name(name) + " (" + columns + ") ON COMMIT DROP";
  }

  std::string refresh_statistics_sql(const std::string& quoted_table) const override {
    return "ANALYZE " + quoted_table;
  }

  std::string limit_offset_sql(std::optional<std::int64_t> limit,
                               std::int64_t offset) const override {
    std::string out;
    if (limit) out += " LIMIT " + std::to_string(*limit);
    if (offset > 0) out += " OFFSET " + std::to_string(offset);
    return out;
  }

  std::vector<std::string> table_names() override {
    std::vector<std::string> out;
    auto rows = query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname");
    while (rows->next()) out.push_back(rows->get(0).as_text());
    return out;
  }

  std::vector<ColumnInfo> columns(std::string_view table) override {
    Value t{std::string(table)};
    auto rows = query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary "
        "AND a.attnum = ANY(i.indkey)), false) "
        "FROM pg_attribute a WHERE a.attrelid = " +
            regclass() + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        std::span(&t, 1));
    std::vector<ColumnInfo> out;
    while (rows->next()) {
      out.push_back({rows->get(0).as_text(), rows->get(1).as_text(), rows->get(2).as_bool(),
                     rows->get(3).as_bool()});
    }
    return out;
  }

  std::vector<ForeignKeyInfo> foreign_keys(std::string_view table) override {
    Value t{std::string(table)};
    auto rows = query(
        "SELECT a.attname, cl.relname, af.attname, con.confdeltype FROM pg_constraint con "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
        "JOIN pg_class cl ON cl.oid = con.confrelid "
        "JOIN pg_attribute af ON af.attrelid = con.confrelid AND af.attnum = con.confkey[1] "
        "WHERE con.contype = 'f' AND con.conrelid = " +
            regclass() + " ORDER BY con.conname",
        std::span(&t, 1));
    std::vector<ForeignKeyInfo> out;
    while (rows->next()) {
      std::string action = rows->get(3).as_text();
      std::string name = action == "c"   ? "CASCADE"
                         : action == "n" ? "SET NULL"
                         : action == "d" ? "SET DEFAULT"
                         : action == "r" ? "RESTRICT"
                                         : "NO ACTION";
      out.push_back({rows->get(0).as_text(), rows->get(1).as_text(), rows->get(2).as_text(), name});
    }
    return out;
  }

  std::vector<IndexInfo> indexes(std::string_view table) override {
    Value t{std::string(table)};
    auto rows = query(
        "SELECT ic.relname, i.indisunique, i.indpred IS NOT NULL, "
        "(SELECT string_agg(a.attname, chr(31) ORDER BY k.ord) FROM unnest(i.indkey) WITH "
        "ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
        "k.attnum) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = " +
            regclass() + " AND NOT i.indisprimary ORDER BY ic.relname",
        std::span(&t, 1));
    std::vector<IndexInfo> out;
    while (rows->next()) {
      IndexInfo idx;
      idx.name = rows->get(0).as_text();
      idx.unique = rows->get(1).as_bool();
      idx.partial = rows->get(2).as_bool();
      if (!rows->get(3).is_null()) {
        std::string cols = rows->get(3).as_text();
        std::size_t start = 0;
        while (true) {
          auto pos = cols.find('\x1f', start);
          idx.columns.push_back(cols.substr(start, pos - start));
          if (pos == std::string::npos) break;
          start = pos + 1;
        }
      }
      out.push_back(std::move(idx));
    }
    return out;
  }

 protected:
  std::int64_t do_execute(std::string_view sql, std::span<const Value> params) override {
    Result res = run(sql, params);
    const char* n = PQcmdTuples(res.get());
    std::int64_t changed = 0;
    if (n != nullptr && *n != '\0')
      std::from_chars(n, n + std::char_traits<char>::length(n), changed);
    return changed;
  }

  std::unique_ptr<Rows> do_query(std::string_view sql, std::span<const Value> params) override {
    send(sql, params);
    if (PQsetSingleRowMode(conn_) != 1) {
      // Only possible right after a failed send; read and report what the server said.
      Result res(PQgetResult(conn_));
      while (Result more{PQgetResult(conn_)}) {
      }
      throw_result(conn_, res.get(), where());
    }
    return std::make_unique<PgStream>(conn_, &stream_, where());
  }

 private:
  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;  // made at connect: PQgetCancel is not async-signal-safe
  PostgresUrl url_;
  Features features_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  PgStream* stream_ = nullptr;  // the query whose rows are being read, if any
  int next_statement_ = 0;

  std::string where() const { return url_.where(); }

  static std::string regclass() {
    return "to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))";
  }

  Result run(std::string_view sql, std::span<const Value> params) {
    send(sql, params);
    // Every result is read; the first failure wins over results before it (a COMMIT may report
    // its success and then the deferred constraint that fails it), as PQexec reports them.
    Result res;
    while (Result next{PQgetResult(conn_)}) {
      bool kept_failure = res && PQresultStatus(res.get()) != PGRES_COMMAND_OK &&
                          PQresultStatus(res.get()) != PGRES_TUPLES_OK;
      if (!kept_failure) res = std::move(next);
    }
    ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw_result(conn_, res.get(), where());
    }
    return res;
  }

  // Reads the rest of an open stream into memory, so that the connection can run a statement.
  void settle() {
    if (stream_ != nullptr) stream_->buffer_rest();
  }

  // Prepares `sql` once per connection and sends it with its parameters; the caller reads the
  // results.
  void send(std::string_view sql, std::span<const Value> params) {
    settle();
    if (params.size() > static_cast<std::size_t>(features_.max_query_params)) {
      throw OperationalError("too many SQL variables (" + std::to_string(params.size()) +
                             "; PostgreSQL allows " + std::to_string(features_.max_query_params) +
                             ")");
    }
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size());
    std::vector<int> formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      switch (v.kind()) {
        case Value::Kind::Null: values[i] = nullptr; continue;
        case Value::Kind::Integer: text[i] = std::to_string(v.as_integer()); break;
        case Value::Kind::Real: text[i] = format_double(v.as_real()); break;
        case Value::Kind::Bool: text[i] = v.as_bool() ? "true" : "false"; break;
        case Value::Kind::Text:
          text[i] = v.as_text();
          if (text[i].find('\0') != std::string::npos) {
            throw ValueError("A string literal cannot contain NUL (0x00) characters.");
          }
          break;
        case Value::Kind::Blob: {
          const Blob& b = v.as_blob();
          text[i].assign(b.begin(), b.end());
          formats[i] = 1;  // binary: bytes as they are
          break;
        }
        case Value::Kind::Date: text[i] = v.as_date().iso(); break;
        case Value::Kind::DateTime: text[i] = v.as_datetime().iso() + "+00"; break;
      }
      values[i] = text[i].data();
      lengths[i] = static_cast<int>(text[i].size());
    }
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      if (prepared_.size() >= kStatementCacheSize) deallocate_all();
      std::string name = "cascade_" + std::to_string(++next_statement_);
      Result prep(
          PQprepare(conn_, name.c_str(), key.c_str(), static_cast<int>(params.size()), nullptr));
      if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) throw_result(conn_, prep.get(), where());
      it = prepared_.emplace(key, name).first;
    }
    if (PQsendQueryPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                            values.data(), lengths.data(), formats.data(), 0) != 1) {
      throw_result(conn_, nullptr, where());
    }
  }

  void deallocate_all() {
    Result r(PQexec(conn_, "DEALLOCATE ALL"));
    prepared_.clear();
  }
};

}  // namespace

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

std::string PostgresUrl::where() const {
  auto hosts = split_commas(host.empty() ? "localhost" : host);
  auto ports = split_commas(port);
  std::string out;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    std::string h = hosts[i].find(':') != std::string::npos ? "[" + hosts[i] + "]" : hosts[i];
    const std::string& p = ports.size() == hosts.size() ? ports[i] : ports.front();
    out += (i ? "," : "") + h + ":" + p;
  }
  return out;
}

std::string PostgresUrl::describe() const {
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += where() + "/" + dbname;
  if (!schema.empty()) out += "?schema=" + schema;
  return out;
}

// libpq parses the URI (every parameter it knows: several hosts, IPv6 addresses, sslrootcert,
// target_session_attrs, passfile, service...); Cascade takes out its own options first.
PostgresUrl parse_postgres_url(std::string_view url) {
  PostgresUrl out;
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    throw ConfigError("database URL " + python_repr(url) +
                      " is not a PostgreSQL URL (postgresql://user@host:port/dbname)");
  }
  std::string libpq_url(url);
  std::string query;
  if (auto q = libpq_url.find('?'); q != std::string::npos) {
    query = libpq_url.substr(q + 1);
    libpq_url.resize(q);
  }
  std::string kept;
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = item.find('=');
    std::string key(item.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1), key);
    auto number = [&](int low, int high, const char* message) {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || n < low ||
          n > high) {
        throw ConfigError(message);
      }
      return n;
    };
    if (key == "schema") {
      out.schema = value;
    } else if (key == "max_variables") {
      out.max_variables =
          number(1, 65535, "PostgreSQL URL option max_variables must be from 1 to 65535");
    } else if (key == "lock_timeout") {
      out.lock_timeout_ms = number(0, std::numeric_limits<int>::max(),
                                   "PostgreSQL URL option lock_timeout must be a number of "
                                   "milliseconds (0: wait for ever)");
    } else {
      kept += (kept.empty() ? "" : "&") + std::string(item);
    }
  }
  if (!kept.empty()) libpq_url += "?" + kept;

  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(libpq_url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? trim(error) : "out of memory";
    if (error != nullptr) PQfreemem(error);
    // libpq quotes the bad part, which may be in the password: never repeat the user info.
    auto at = libpq_url.find('@');
    auto start = libpq_url.find("://") + 3;
    if (at != std::string::npos && at > start) {
      std::string userinfo = libpq_url.substr(start, at - start);
      auto colon = userinfo.find(':');
      for (const std::string& part :
           {userinfo, colon == std::string::npos ? std::string() : userinfo.substr(colon + 1)}) {
        if (part.empty()) continue;
        // Each occurrence once, searching on after what replaced it (the part may be "*").
        for (auto pos = message.find(part); pos != std::string::npos;
             pos = message.find(part, pos + 3)) {
          message.replace(pos, part.size(), "***");
        }
      }
    }
    throw ConfigError("PostgreSQL URL: " + message);
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string key = o->keyword, value = o->val;
    if (key == "user")
      out.user = value;
    else if (key == "password")
      out.password = value;
    else if (key == "host" || key == "hostaddr") {
      if (out.host.empty() || key == "host") out.host = value;
    } else if (key == "port")
      out.port = value;
    else if (key == "dbname")
      out.dbname = value;
    else
      out.options[key] = value;
  }
  PQconninfoFree(options);
  for (const auto& p : split_commas(out.port)) {
    int n = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || n <= 0 || n > 65535) {
      throw ConfigError("PostgreSQL URL: the port must be a number from 1 to 65535");
    }
  }
  if (out.dbname.empty()) out.dbname = out.user.empty() ? "postgres" : out.user;
  return out;
}

std::unique_ptr<Connection> open_postgres(std::string_view url) {
  return std::make_unique<PostgresConnection>(parse_postgres_url(url));
}

}  // namespace cascade::db
