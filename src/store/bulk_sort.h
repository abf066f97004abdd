// Internal to the store module: the sort of a bulk-load chunk's writes of one column
// family by key (bulk_load.h, RocksStore::WriteChunk; docs/formats/store.md, "Bulk load").
//
// Thread safety: SortWrites touches only its arguments; several threads may sort at once.
#pragma once

#include <cstdint>
#include <vector>

#include "store/bulk_load.h"

namespace medhub::store {

// Sets *order to the positions in `writes` sorted by key (writes of one key in write order)
// and *same, parallel to *order, to 1 where the key at that position equals the next one's
// (so a later write of the key follows and wins), else 0.
void SortWrites(const std::vector<BulkWrite>& writes, std::vector<uint32_t>* order,
                std::vector<uint8_t>* same);

}  // namespace medhub::store
