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
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "cascade/db/connection.h"

namespace cascade::db {

class Atomic {
 public:
  explicit Atomic(Connection& connection);
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
auto atomic(Connection& connection, F&& fn) {
  Atomic tx(connection);
  if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
    std::forward<F>(fn)();
    tx.commit();
  } else {
    auto result = std::forward<F>(fn)();
    tx.commit();
    return result;
  }
}

}  // namespace cascade::db
