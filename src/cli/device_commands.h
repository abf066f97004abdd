// `medhub devices ...`: register home devices and simulate them.
//
//   medhub devices register --data DIR --patient ID [--count N] [--prefix P] --out FILE
//     Offline (no serve on DIR): creates N Device resources "P-1".."P-N" bound to
//     Patient/ID (which must exist), each with its own OAuth client (role device, client id
//     "P-K", scope patient/Observation.write patient/Device.read), and writes their
//     credentials to FILE (mode 0600, device<TAB>client<TAB>secret per line).
//   medhub devices simulate --credentials FILE --devices N --rate R
//                           (--http URL | --mqtt HOST:PORT --auth URL)
//                           [--duration S] [--spool DIR] [--batch B] [--drain S]
//     Store-and-forward simulator (ingest/simulator.h): R readings per second per device
//     for S seconds, then waits until all are acknowledged (at most --drain seconds).
//     Prints the counts every second and a final "done: ..." line; exit 0 when nothing
//     is left in flight, 1 otherwise.
#pragma once

#include <string>
#include <vector>

namespace medhub::cli {

extern const char kDevicesUsage[];

// `medhub devices <register|simulate> ...` (args exclude "devices"); the exit code.
int RunDevices(const std::vector<std::string>& args);

}  // namespace medhub::cli
