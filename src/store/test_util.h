// Helpers for the store's tests (beside core/temp_dir.h's TempDir in medhub::testing).
// Header-only; not used by production code.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/resource.h"
#include "fhir/search_query.h"
#include "store/store.h"

namespace medhub::testing {

// The write of the FHIR JSON `body` under its own type and id (a test failure if it does
// not parse).
inline store::WriteOp PutOp(std::string_view body) {
  auto r = fhir::ParseResource(body);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  store::WriteOp op;
  op.type = std::string(fhir::ResourceType(*r));
  op.id = std::string(fhir::ResourceId(*r));
  op.resource = std::move(r).value();
  return op;
}

// Commits the one write `op` and returns its outcome (a test failure if the commit fails).
inline store::WriteOutcome CommitOne(store::Store& store, store::WriteOp op) {
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  auto r = store.Commit(std::move(ops));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->at(0) : store::WriteOutcome{};
}

// The ids a search of `type` by `params` finds (a test failure on a bad query or an error).
inline std::vector<std::string> SearchIds(
    store::Store& store, std::string_view type,
    const std::vector<std::pair<std::string, std::string>>& params) {
  auto q = fhir::ParseSearchQuery(type, params);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  if (!q.ok()) return {};
  auto ids = store.Search(*q);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<std::string>{};
}

}  // namespace medhub::testing
