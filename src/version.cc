#include "cascade/version.h"

namespace cascade {

const char* version() noexcept { return CASCADE_VERSION_STRING; }

}  // namespace cascade
