// The published data files of a lake (docs/formats/lake.md): every `*.ndjson` file under
// `<root>/<ResourceType>/...`, skipping any file or folder whose name begins with '_' or
// '.' (in-progress data, staging, manifests). Files come sorted by path.
#pragma once

#include <string>
#include <vector>

#include "analytics/local_engine.h"
#include "core/status.h"

namespace medhub::analytics {

// Files of the given resource types (all types when `types` is empty) under a local lake
// root. NotFound when the root does not exist.
Result<std::vector<InputFile>> LocalLakeFiles(const std::string& root,
                                              const std::vector<std::string>& types);

// True for names the lake uses for things in progress.
bool IsHiddenName(std::string_view name);

}  // namespace medhub::analytics
