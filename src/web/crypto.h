// Random tokens, CSRF masking and constant-time comparison, through OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace cascade::web::crypto {

// `length` characters drawn uniformly from [A-Za-z0-9] (or [a-z0-9] when `lower`), from
// OpenSSL's RAND_bytes; throws cascade::Error when the generator fails.
std::string random_string(std::size_t length, bool lower = false);

// Equal strings, in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// Django's CSRF token format: a 32-character secret of [A-Za-z0-9]; the form carries a fresh
// 32-character mask followed by the secret, each character shifted by the mask's
// (chars[(secret_i + mask_i) % 62]), so the token differs on every render.
inline constexpr std::size_t kCsrfSecretLength = 32;
std::string csrf_mask(std::string_view secret);
// The secret inside a 64-character masked token, or the token itself when it is a 32-character
// secret (both forms are accepted, as Django does); "" when it is neither.
std::string csrf_unmask(std::string_view token);
bool csrf_well_formed(std::string_view secret);

}  // namespace cascade::web::crypto
