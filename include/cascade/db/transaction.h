// Atomic: Django's transaction.atomic as an RAII guard. The outermost block opens a transaction;
// nested blocks use savepoints. commit() ends the block successfully; a block destroyed without
// commit() (an exception unwinding through it) rolls back to where it began, and the exception
// goes on. Callbacks registered with Connection::on_commit run after the outermost commit.
//
//   cascade::db::Atomic tx(conn);
//   conn.execute(...);
//   tx.commit();
//
// or, for a whole function: cascade::db::atomic(conn, [&] { ... });
// (cascade::db::atomic(conn, Atomic::Mode::Immediate, [&] { ... }) for a block that writes).
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "cascade/db/connection.h"

namespace cascade::db {

class Atomic {
 public:
  // When the outermost block takes the database's write lock. Deferred: at the first write (a
  // plain BEGIN). Immediate: at BEGIN, waiting for other writers through the busy timeout; a
  // block that reads and then writes must be Immediate on SQLite, where a deferred transaction
  // cannot wait to upgrade and fails at once with "database is locked" when another connection
  // wrote in between. Databases with row locks (PostgreSQL) treat both alike. Nested blocks
  // (savepoints) inherit the outer block's mode.
  enum class Mode { Deferred, Immediate };

  explicit Atomic(Connection& connection, Mode mode = Mode::Deferred);
  ~Atomic();  // rolls back unless commit() ran; never throws
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  // Commits the transaction (outermost) or releases the savepoint (nested). If the commit
  // fails (a deferred constraint), everything in the block is rolled back and the error thrown.
  void commit();

 private:
  Connection& connection_;
  std::string savepoint_;  // empty for the outermost block
  int depth_;
  bool done_ = false;

  void rollback() noexcept;
};

template <typename F>
auto atomic(Connection& connection, Atomic::Mode mode, F&& fn) {
  Atomic tx(connection, mode);
  if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
    std::forward<F>(fn)();
    tx.commit();
  } else {
    auto result = std::forward<F>(fn)();
    tx.commit();
    return result;
  }
}

template <typename F>
auto atomic(Connection& connection, F&& fn) {
  return atomic(connection, Atomic::Mode::Deferred, std::forward<F>(fn));
}

}  // namespace cascade::db
