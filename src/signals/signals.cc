#include "cascade/signals/signals.h"

#include <algorithm>
#include <iostream>

#include "cascade/model/model_meta.h"
#include "cascade/model/on_delete.h"

namespace cascade {

namespace {
bool matches(const ModelMeta* sender, const ModelMeta& model) {
  return sender == nullptr || sender == &model;
}
bool is_delete(Signal s) { return s == Signal::PreDelete || s == Signal::PostDelete; }
}  // namespace

Signals::Id Signals::connect(Signal signal, Receiver receiver, const ModelMeta* sender) {
  Id id = next_++;
  entries_.push_back({id, signal, sender, std::move(receiver), nullptr});
  if (is_delete(signal)) warn_about_database_cascades(signal, sender);
  return id;
}

Signals::Id Signals::connect_batch(Signal signal, BatchReceiver receiver, const ModelMeta* sender) {
  Id id = next_++;
  entries_.push_back({id, signal, sender, nullptr, std::move(receiver)});
  if (is_delete(signal)) warn_about_database_cascades(signal, sender);
  return id;
}

bool Signals::disconnect(Id id) {
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

bool Signals::has_receivers(Signal signal, const ModelMeta& model) const noexcept {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.signal == signal && e.receiver && matches(e.sender, model);
  });
}

bool Signals::has_batch_receivers(Signal signal, const ModelMeta& model) const noexcept {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.signal == signal && e.batch && matches(e.sender, model);
  });
}

void Signals::send(const SignalEvent& event) const {
  // Receivers may connect or disconnect others while running: iterate over a snapshot.
  auto entries = entries_;
  for (const auto& e : entries) {
    if (e.signal == event.signal && e.receiver && matches(e.sender, event.sender))
      e.receiver(event);
  }
}

void Signals::send_batch(const BatchEvent& event) const {
  auto entries = entries_;
  for (const auto& e : entries) {
    if (e.signal == event.signal && e.batch && matches(e.sender, event.sender)) e.batch(event);
  }
}

void Signals::set_warning_handler(std::function<void(const std::string&)> handler) {
  warning_ = std::move(handler);
}

void Signals::warn(const std::string& message) const {
  if (warning_) {
    warning_(message);
  } else {
    std::cerr << "cascade: warning: " << message << "\n";
  }
}

void Signals::warn_about_database_cascades(Signal signal, const ModelMeta* sender) {
  if (sender == nullptr) return;
  // Rows the database removes itself (DB_CASCADE) never reach receivers.
  std::vector<std::string> db_only;
  for (const auto& f : sender->local_fields()) {
    if (f.is_foreign_key() && traits(f.on_delete).by_database && traits(f.on_delete).deletes) {
      db_only.push_back(sender->label() + "." + f.name);
    }
  }
  if (db_only.empty()) return;
  std::string list;
  for (const auto& d : db_only) list += (list.empty() ? "" : ", ") + d;
  warn(std::string(signal == Signal::PreDelete ? "pre_delete" : "post_delete") + " receiver for " +
       sender->label() + ": rows of " + sender->label() +
       " that the database deletes through DB_CASCADE (" + list + ") are removed without signals");
}

}  // namespace cascade
