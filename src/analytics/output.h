// Formats a job's output lines ("key\tvalue", key fields separated by '|', value fields by
// '\t') as CSV (RFC 4180, header row, "\n" line ends) or JSON (an array of objects; fields
// that are integers or decimals become JSON numbers). Both engines format through here, so
// their outputs compare byte for byte.
#pragma once

#include <string>
#include <vector>

namespace medhub::analytics {

std::vector<std::string> SplitRow(std::string_view line);
std::string FormatCsv(const std::vector<std::string>& columns,
                      const std::vector<std::string>& lines);
std::string FormatJson(const std::vector<std::string>& columns,
                       const std::vector<std::string>& lines);

}  // namespace medhub::analytics
