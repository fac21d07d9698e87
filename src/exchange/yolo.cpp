#include "tessera/exchange/yolo.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/exchange/polygon.hpp"

namespace tessera::exchange {
namespace {

std::string six(double v) { return fmt::format("{:.6f}", v); }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && ((s.front() == '\'' && s.back() == '\'') || (s.front() == '"' && s.back() == '"'))) {
    const char q = s.front();
    s = s.substr(1, s.size() - 2);
    if (q == '\'') {
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        out.push_back(s[i]);
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;
      }
      return out;
    }
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out.push_back(s[i]);
    }
    return out;
  }
  return s;
}

// A YAML scalar that reads back as this exact string: plain when safe, else single-quoted.
std::string yaml_scalar(const std::string& s) {
  bool plain = !s.empty() && s.find_first_of(":#'\"[]{},&*!|>%@`") == std::string::npos && s.front() != '-' &&
               s.front() != ' ' && s.back() != ' ' && s.front() != '?';
  static const char* kSpecial[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "True", "False",
                                   "Yes",  "No",    "On",  "Off", "Null", "NULL", "TRUE", "FALSE"};
  for (const char* word : kSpecial) plain = plain && s != word;
  if (plain) {
    double ignored = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ignored);
    if (ec == std::errc() && p == s.data() + s.size()) plain = false;
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

}  // namespace

std::string_view to_string(YoloTask task) { return task == YoloTask::detect ? "detect" : "segment"; }

YoloTask parse_yolo_task(std::string_view text) {
  if (text == "detect") return YoloTask::detect;
  if (text == "segment") return YoloTask::segment;
  throw Error(ErrorCode::invalid_argument, fmt::format("'task' must be detect or segment, got '{}'", text),
              {{"field", "task"}});
}

std::vector<std::string> yolo_lines(YoloTask task, int class_id, const cv::Mat& mask, cv::Point offset,
                                    cv::Size image_size) {
  if (mask.type() != CV_8UC1) throw Error(ErrorCode::invalid_argument, "yolo_lines: the mask must be 8-bit");
  if (cv::countNonZero(mask) == 0) throw Error(ErrorCode::invalid_argument, "yolo_lines: the mask has no set pixel");
  const double w = image_size.width, h = image_size.height;
  std::vector<std::string> lines;
  if (task == YoloTask::detect) {
    const cv::Rect box = cv::boundingRect(mask) + offset;
    const double c0 = box.x, c1 = box.x + box.width - 1, r0 = box.y, r1 = box.y + box.height - 1;
    lines.push_back(fmt::format("{} {} {} {} {}", class_id, six((c0 + c1 + 1) / 2 / w), six((r0 + r1 + 1) / 2 / h),
                                six((c1 + 1 - c0) / w), six((r1 + 1 - r0) / h)));
    return lines;
  }
  for (const auto& contour : pixel_contours(mask)) {
    std::string line = std::to_string(class_id);
    for (const auto& p : contour) {
      line += ' ';
      line += six((p.x + offset.x) / w);
      line += ' ';
      line += six((p.y + offset.y) / h);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<YoloObject> parse_yolo_labels(std::string_view text, std::string_view name) {
  std::vector<YoloObject> objects;
  size_t start = 0;
  int line_number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    const auto words = split_words(line);
    if (words.empty()) continue;
    auto fail = [&](const std::string& problem) -> void {
      throw Error(ErrorCode::corrupt, fmt::format("{} line {}: {}", name, line_number, problem),
                  {{"line", line_number}});
    };
    YoloObject object;
    auto [p, ec] = std::from_chars(words[0].data(), words[0].data() + words[0].size(), object.class_id);
    if (ec != std::errc() || p != words[0].data() + words[0].size() || object.class_id < 0) {
      fail(fmt::format("class '{}' is not a non-negative integer", words[0]));
    }
    for (size_t i = 1; i < words.size(); ++i) {
      double v = 0;
      const std::string word(words[i]);
      char* end_ptr = nullptr;
      v = std::strtod(word.c_str(), &end_ptr);
      if (end_ptr != word.c_str() + word.size() || !std::isfinite(v)) {
        fail(fmt::format("value {} '{}' is not a number", i, word));
      }
      object.values.push_back(v);
    }
    const size_t n = object.values.size();
    if (n != 4 && (n < 6 || n % 2 != 0)) {
      fail(fmt::format("{} numbers: a box needs 4, a polygon an even count of at least 6", n));
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

cv::Mat yolo_object_mask(const YoloObject& object, cv::Size size) {
  cv::Mat out(size, CV_8UC1, cv::Scalar(0));
  const double w = size.width, h = size.height;
  if (object.values.size() == 4) {
    // Back to the pixel-corner box the writer measured, rounded to whole pixels.
    const int x0 = int(std::lround((object.values[0] - object.values[2] / 2) * w));
    const int y0 = int(std::lround((object.values[1] - object.values[3] / 2) * h));
    const int x1 = int(std::lround((object.values[0] + object.values[2] / 2) * w));
    const int y1 = int(std::lround((object.values[1] + object.values[3] / 2) * h));
    const cv::Rect box = cv::Rect(cv::Point(x0, y0), cv::Point(x1, y1)) & cv::Rect({0, 0}, size);
    if (!box.empty()) out(box).setTo(255);
    return out;
  }
  std::vector<cv::Point> contour;
  for (size_t i = 0; i + 1 < object.values.size(); i += 2) {
    contour.emplace_back(int(std::lround(object.values[i] * w)), int(std::lround(object.values[i + 1] * h)));
  }
  return fill_pixel_contours({contour}, size);
}

std::string write_yolo_data_yaml(const std::vector<std::string>& names, bool has_val) {
  std::string out = "train: images/train\n";
  out += has_val ? "val: images/val\n" : "val: images/train\n";
  out += fmt::format("nc: {}\nnames:\n", names.size());
  for (size_t i = 0; i < names.size(); ++i) out += fmt::format("  {}: {}\n", i, yaml_scalar(names[i]));
  return out;
}

std::vector<std::string> read_yolo_names(std::string_view yaml, std::string_view name) {
  std::vector<std::string> lines;
  {
    std::istringstream in{std::string(yaml)};
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  auto corrupt = [&](const std::string& problem) {
    return Error(ErrorCode::corrupt, fmt::format("{}: {}", name, problem), {{"field", "names"}});
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("names:", 0) != 0) continue;
    const std::string rest = trim(std::string_view(lines[i]).substr(6));
    std::vector<std::string> names;
    if (!rest.empty() && rest.front() == '[') {  // flow list: [a, b]
      if (rest.back() != ']') throw corrupt("names: a flow list must end with ']'");
      std::string item;
      std::stringstream items(rest.substr(1, rest.size() - 2));
      while (std::getline(items, item, ',')) {
        if (!trim(item).empty()) names.push_back(unquote(item));
      }
      return names;
    }
    std::map<long, std::string> by_index;
    bool listed = false;
    for (size_t k = i + 1; k < lines.size(); ++k) {
      const std::string line = lines[k];
      if (trim(line).empty() || trim(line).front() == '#') continue;
      if (line.front() != ' ' && line.front() != '\t' && line.front() != '-') break;
      const std::string item = trim(line);
      if (item.front() == '-') {
        listed = true;
        names.push_back(unquote(item.substr(1)));
        continue;
      }
      const size_t colon = item.find(':');
      if (colon == std::string::npos) throw corrupt(fmt::format("names: line '{}' is not 'index: name'", item));
      long index = -1;
      const std::string key = trim(item.substr(0, colon));
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || p != key.data() + key.size()) {
        throw corrupt(fmt::format("names: key '{}' is not an integer", key));
      }
      by_index[index] = unquote(item.substr(colon + 1));
    }
    if (listed) return names;
    long expected = 0;
    for (const auto& [index, value] : by_index) {
      if (index != expected++) throw corrupt("names: the keys must be exactly 0..n-1");
      names.push_back(value);
    }
    return names;
  }
  throw corrupt("no 'names' key");
}

}  // namespace tessera::exchange
