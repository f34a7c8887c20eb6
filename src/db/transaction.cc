#include "cascade/db/transaction.h"

#include <algorithm>

#include "cascade/error.h"

namespace cascade::db {

Atomic::Atomic(Connection& connection, Mode mode) : connection_(connection) {
  depth_ = connection_.atomic_depth_ + 1;
  if (depth_ == 1) {
    connection_.execute(connection_.begin_sql(mode == Mode::Immediate));
  } else {
    savepoint_ = "cascade_sp_" + std::to_string(++connection_.savepoint_counter_);
    connection_.execute("SAVEPOINT " + connection_.quote_name(savepoint_));
  }
  connection_.atomic_depth_ = depth_;
}

Atomic::~Atomic() {
  if (!done_) rollback();
}

void Atomic::commit() {
  if (done_) return;
  if (connection_.atomic_depth_ != depth_) {
    // An inner block is still open: committing now would end it too. Treat as misuse.
    rollback();
    throw Error("Atomic::commit() called while a nested Atomic block is still open");
  }
  try {
    if (savepoint_.empty()) {
      connection_.execute("COMMIT");
    } else {
      connection_.execute("RELEASE SAVEPOINT " + connection_.quote_name(savepoint_));
    }
  } catch (...) {
    rollback();
    throw;
  }
  done_ = true;
  connection_.atomic_depth_ = depth_ - 1;
  if (depth_ == 1) {
    // Callbacks run after the commit, outside any transaction; they may register new ones.
    auto callbacks = std::move(connection_.on_commit_);
    connection_.on_commit_.clear();
    for (auto& cb : callbacks) cb.fn();
  } else {
    // Callbacks of a released savepoint now belong to the enclosing block.
    for (auto& cb : connection_.on_commit_) cb.depth = std::min(cb.depth, depth_ - 1);
  }
}

void Atomic::rollback() noexcept {
  done_ = true;
  connection_.atomic_depth_ = depth_ - 1;
  auto& pending = connection_.on_commit_;
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [&](const auto& cb) { return cb.depth >= depth_; }),
                pending.end());
  try {
    if (savepoint_.empty()) {
      connection_.execute("ROLLBACK");
    } else {
      connection_.execute("ROLLBACK TO SAVEPOINT " + connection_.quote_name(savepoint_));
      connection_.execute("RELEASE SAVEPOINT " + connection_.quote_name(savepoint_));
    }
  } catch (...) {
    // A failed COMMIT may already have ended the transaction; nothing more can be done here.
  }
}

}  // namespace cascade::db
