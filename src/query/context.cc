#include "cascade/query/context.h"

namespace cascade {

Context::Context(const Registry& registry, std::unique_ptr<db::Connection> connection)
    : registry_(&registry),
      connection_(std::move(connection)),
      signals_(std::make_unique<Signals>()) {
  if (!registry.finalized()) {
    throw Error("Database needs a finalized Registry: call registry.finalize() first");
  }
}

Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

}  // namespace cascade
