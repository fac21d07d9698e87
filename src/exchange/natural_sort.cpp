#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/exchange/montage.hpp"

namespace tessera::exchange {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Next run (all digits or no digits) of text starting at pos.
std::string_view next_run(std::string_view text, size_t& pos) {
  size_t begin = pos;
  bool digits = is_digit(text[pos]);
  while (pos < text.size() && is_digit(text[pos]) == digits) ++pos;
  return text.substr(begin, pos - begin);
}

// Digit runs compared as integers of any length: leading zeros dropped, then by length, then by text.
int compare_numbers(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    size_t first = s.find_first_not_of('0');
    return first == std::string_view::npos ? std::string_view{} : s.substr(first);
  };
  a = strip(a);
  b = strip(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

bool natural_less(std::string_view a, std::string_view b) {
  size_t pa = 0;
  size_t pb = 0;
  // Python's re.split puts an empty text run first when a name starts with a digit; comparing a digit
  // run with a text run then compares "" with text, so digits sort before letters, as below.
  if (pa < a.size() && pb < b.size() && is_digit(a[0]) != is_digit(b[0])) return is_digit(a[0]);
  while (pa < a.size() && pb < b.size()) {
    bool digits_a = is_digit(a[pa]);
    std::string_view run_a = next_run(a, pa);
    std::string_view run_b = next_run(b, pb);
    int c = 0;
    if (digits_a) {
      c = compare_numbers(run_a, run_b);
    } else {
      int t = run_a.compare(run_b);
      c = t < 0 ? -1 : (t > 0 ? 1 : 0);
    }
    if (c != 0) return c < 0;
  }
  // A proper prefix (in runs) sorts first.
  return pa >= a.size() && pb < b.size();
}

void natural_sort(std::vector<std::filesystem::path>& files) {
  std::stable_sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return natural_less(a.filename().string(), b.filename().string());
  });
}

std::vector<std::filesystem::path> list_pipeline_images(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(ErrorCode::not_found, fmt::format("{}: not a folder", folder.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    for (const char* ext : {".tif", ".png", ".jpg", ".npz"}) {
      if (name.find(ext) != std::string::npos) {
        files.push_back(entry.path());
        break;
      }
    }
  }
  // Directory order is arbitrary; sort by name first so natural ties are reproducible.
  std::sort(files.begin(), files.end());
  natural_sort(files);
  return files;
}

}  // namespace tessera::exchange
