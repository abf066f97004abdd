// Helpers for the store's tests (beside core/temp_dir.h's TempDir in medhub::testing).
// Header-only; not used by production code.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "fhir/resource.h"
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

}  // namespace medhub::testing
