#pragma once

#include <string>
#include <string_view>

namespace tessera::exchange {

// Why `name` cannot be a ZIP entry name, or "" if it can. Entries are unpacked into folders by other
// tools: a name that could escape the target folder (absolute, '..'), that extractors read differently
// ('\\', empty or '.' parts) or that holds control characters is refused.
std::string zip_name_problem(std::string_view name);

}  // namespace tessera::exchange
