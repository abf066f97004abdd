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

// Files of the given resource types in a lake named by a --lake location (a folder,
// file:///dir or webhdfs://HOST:PORT/PATH), listed and read through lake::FileSystem.
// The returned files keep the file system alive.
Result<std::vector<InputFile>> LakeFiles(const std::string& location,
                                         const std::vector<std::string>& types);

// True for names the lake uses for things in progress.
bool IsHiddenName(std::string_view name);

}  // namespace medhub::analytics
