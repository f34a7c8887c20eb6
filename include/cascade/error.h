// Cascade's exceptions. Every error Cascade raises derives from cascade::Error, and where Django
// has a message for the same situation the text is Django's. python_name() is the dotted class
// name Django would show in a traceback; the shell prints it.
//
// Thread safety: exception objects are immutable after construction.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace cascade {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // The exception's class as a Python traceback would name it.
  virtual std::string python_name() const { return "Exception"; }
};

// A settings or models file that cannot be used. file() and line() say where (line 0: unknown).
class ConfigError : public Error {
 public:
  ConfigError(std::string message, std::string file = {}, int line = 0);
  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  std::string python_name() const override { return "django.core.exceptions.ImproperlyConfigured"; }

 private:
  std::string file_;
  int line_;
};

// Python's ValueError (for example, deleting an instance whose pk is unset).
class ValueError : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "ValueError"; }
};

// Python's TypeError (wrong kind of argument).
class TypeError : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "TypeError"; }
};

// Python's LookupError: an unknown app or model label.
class LookupError : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "LookupError"; }
};

// Python's IndexError (qs[i] past the end).
class IndexError : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "IndexError"; }
};

// Unknown field or lookup, with Django's message naming the choices.
class FieldError : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "django.core.exceptions.FieldError"; }
};

// Raised by get() when no row matches: "<Model> matching query does not exist."
class DoesNotExist : public Error {
 public:
  DoesNotExist(std::string model_label, const std::string& object_name);
  const std::string& model_label() const noexcept { return model_label_; }
  std::string python_name() const override;

 private:
  std::string model_label_;
};

// Raised by get() when several rows match.
class MultipleObjectsReturned : public Error {
 public:
  MultipleObjectsReturned(std::string model_label, const std::string& object_name,
                          std::int64_t count);
  const std::string& model_label() const noexcept { return model_label_; }
  std::string python_name() const override;

 private:
  std::string model_label_;
};

// Errors reported by the database. code() is the driver's code: SQLite's extended result code,
// or 0 where the backend has only a SQLSTATE (sqlstate()).
class DatabaseError : public Error {
 public:
  DatabaseError(std::string message, int code = 0, std::string sqlstate = {});
  int code() const noexcept { return code_; }
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  std::string python_name() const override { return "django.db.utils.DatabaseError"; }

 private:
  int code_;
  std::string sqlstate_;
};

// A constraint failed: foreign key, unique, not null, check.
class IntegrityError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  std::string python_name() const override { return "django.db.utils.IntegrityError"; }
};

// The database could not do the operation: cannot open, locked, disk full, connection lost.
class OperationalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  std::string python_name() const override { return "django.db.utils.OperationalError"; }
};

// A lock could not be had: SQLite still busy when the busy timeout ran out, a PostgreSQL
// deadlock, lock timeout or serialization failure. The statement's transaction was rolled back
// in full, so the whole operation may be retried.
class LockError : public OperationalError {
 public:
  using OperationalError::OperationalError;
};

// Misuse: bad SQL, a table that does not exist, a schema that disagrees with the models.
class ProgrammingError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  std::string python_name() const override { return "django.db.utils.ProgrammingError"; }
};

// The data cannot be stored as given (out of range, invalid text for the database).
class DataError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  std::string python_name() const override { return "django.db.utils.DataError"; }
};

// The operation is not supported (by this backend, or in this state).
class NotSupportedError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  std::string python_name() const override { return "django.db.utils.NotSupportedError"; }
};

}  // namespace cascade
