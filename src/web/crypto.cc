#include "web/crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "cascade/error.h"

namespace cascade::web::crypto {
namespace {

constexpr std::string_view kChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

int index_of(char c) {
  auto at = kChars.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string random_string(std::size_t length, bool lower) {
  std::string_view alphabet =
      lower ? std::string_view("abcdefghijklmnopqrstuvwxyz0123456789") : kChars;
  // Rejection sampling: bytes at or above the largest multiple of the alphabet's size are
  // drawn again, so every character is equally likely.
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  std::vector<unsigned char> buffer(length * 2 + 16);
  while (out.size() < length) {
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
      throw Error("the random number generator failed (RAND_bytes)");
    }
    for (unsigned char b : buffer) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.size()];
      if (out.size() == length) break;
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool csrf_well_formed(std::string_view secret) {
  return secret.size() == kCsrfSecretLength &&
         std::all_of(secret.begin(), secret.end(), [](char c) { return index_of(c) >= 0; });
}

std::string csrf_mask(std::string_view secret) {
  std::string mask = random_string(kCsrfSecretLength);
  std::string out = mask;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    out +=
        kChars[static_cast<std::size_t>(index_of(secret[i]) + index_of(mask[i])) % kChars.size()];
  }
  return out;
}

std::string csrf_unmask(std::string_view token) {
  if (token.size() == kCsrfSecretLength) return csrf_well_formed(token) ? std::string(token) : "";
  if (token.size() != 2 * kCsrfSecretLength) return "";
  std::string_view mask = token.substr(0, kCsrfSecretLength);
  std::string_view masked = token.substr(kCsrfSecretLength);
  if (!csrf_well_formed(mask) || !csrf_well_formed(masked)) return "";
  std::string out;
  const int n = static_cast<int>(kChars.size());
  for (std::size_t i = 0; i < kCsrfSecretLength; ++i) {
    out += kChars[static_cast<std::size_t>((index_of(masked[i]) - index_of(mask[i]) + n) % n)];
  }
  return out;
}

}  // namespace cascade::web::crypto
