// netdelay: a packet delayer for the transmission experiment (bench/transmission/run.sh),
// standing in for `tc netem delay` on kernels without sch_netem.
//
//   netdelay --queue N --delay-ms D [--jitter-ms J] [--reorder] [--seed S] [--max-held M]
//
// It binds NFQUEUE number N of the current network namespace (packets reach it through an
// iptables rule such as `iptables -A INPUT -i IF -j NFQUEUE --queue-num N --queue-bypass`)
// and gives each packet its ACCEPT verdict once its delay has passed: D ms plus a uniform
// draw in [-J, +J] ms (netem's default jitter distribution), never below 0. Unless
// --reorder is given, packets of one flow (protocol, addresses and, for TCP and UDP, ports)
// leave in the order they came: a packet is held at least until the previous packet of its
// flow has left (netem with a pfifo child keeps the whole interface's order). One-way delay,
// per packet; with a rule in each of two namespaces, a round trip grows by 2 x D.
// Queue on the receiver's INPUT, not the sender's OUTPUT: a packet held on output still
// counts against its TCP socket's small-queue limit (TSQ), which then throttles the flow.
//
// It speaks nfnetlink_queue directly over a netlink socket (linux/netfilter/
// nfnetlink_queue.h), so it needs no library. At most M packets (default 65536) wait in
// the kernel's queue; beyond that the kernel drops them and counts them in
// /proc/net/netfilter/nfnetlink_queue (queue_dropped), which run.sh reports.
//
// Prints "netdelay: queue N ready" on stderr once bound; on SIGINT or SIGTERM it releases
// every held packet at once, prints its counts (packets, verdicts, achieved delay, how late
// the timer fired) and exits 0. Exits 1 with a message when the queue cannot be bound (no
// nfnetlink_queue in the kernel, not root, queue taken). Single-threaded.
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Options {
  uint16_t queue = 0;
  double delay_ms = 0;
  double jitter_ms = 0;
  bool reorder = false;
  uint64_t seed = 1;
  uint32_t max_held = 65536;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "netdelay: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "netdelay: %s\nusage: netdelay --queue N --delay-ms D [--jitter-ms J] "
               "[--reorder] [--seed S] [--max-held M]\n",
               why);
  std::exit(2);
}

double NumberArg(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) Usage("missing value");
  char* end = nullptr;
  const double v = std::strtod(argv[++*i], &end);
  if (end == argv[*i] || *end != '\0' || v < 0) Usage("values must be non-negative numbers");
  return v;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  bool have_queue = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--queue") {
      const double q = NumberArg(argc, argv, &i);
      if (q > 65535 || q != static_cast<uint16_t>(q)) Usage("--queue must be 0..65535");
      o.queue = static_cast<uint16_t>(q);
      have_queue = true;
    } else if (a == "--delay-ms") {
      o.delay_ms = NumberArg(argc, argv, &i);
    } else if (a == "--jitter-ms") {
      o.jitter_ms = NumberArg(argc, argv, &i);
    } else if (a == "--seed") {
      o.seed = static_cast<uint64_t>(NumberArg(argc, argv, &i));
    } else if (a == "--max-held") {
      o.max_held = static_cast<uint32_t>(std::max(1.0, NumberArg(argc, argv, &i)));
    } else if (a == "--reorder") {
      o.reorder = true;
    } else {
      Usage(("unknown argument " + std::string(a)).c_str());
    }
  }
  if (!have_queue) Usage("--queue is required");
  return o;
}

// One netlink request to the queue subsystem: nlmsghdr, nfgenmsg, then attributes.
class Request {
 public:
  Request(uint8_t msg_type, uint16_t flags, uint16_t queue, uint32_t seq) {
    nlmsghdr h{};
    h.nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_QUEUE << 8) | msg_type);
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    h.nlmsg_seq = seq;
    Append(&h, sizeof h);
    nfgenmsg g{};
    g.nfgen_family = AF_UNSPEC;
    g.version = NFNETLINK_V0;
    g.res_id = htons(queue);
    Append(&g, sizeof g);
  }
  void Attr(uint16_t type, const void* data, size_t len) {
    nlattr a{};
    a.nla_type = type;
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    Append(&a, sizeof a);
    Append(data, len);
  }
  // The finished message (length patched in).
  const std::vector<char>& Bytes() {
    const uint32_t len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
    return buf_;
  }

 private:
  void Append(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
    buf_.resize(NLMSG_ALIGN(buf_.size()), '\0');
  }
  std::vector<char> buf_;
};

struct Held {
  Clock::time_point release;
  uint64_t order;  // arrival order: ties leave first-come first-served
  uint32_t packet_id;
  Clock::time_point arrived;
  bool operator>(const Held& o) const {
    return std::tie(release, order) > std::tie(o.release, o.order);
  }
};

// Flow of an IPv4 or IPv6 packet from its first bytes: protocol, addresses, and the ports
// for TCP and UDP. Anything unparsable is one flow of its own kind.
std::string FlowKey(const unsigned char* p, size_t n) {
  if (n < 1) return {};
  const int version = p[0] >> 4;
  size_t header = 0, addr_at = 0, addr_len = 0;
  int proto = -1;
  if (version == 4 && n >= 20) {
    header = static_cast<size_t>(p[0] & 0x0f) * 4;
    proto = p[9];
    addr_at = 12;
    addr_len = 8;
  } else if (version == 6 && n >= 40) {
    header = 40;  // extension headers are not followed: their flows share a key
    proto = p[6];
    addr_at = 8;
    addr_len = 32;
  } else {
    return std::string(1, static_cast<char>(version));
  }
  std::string key(reinterpret_cast<const char*>(p) + addr_at, addr_len);
  key.push_back(static_cast<char>(proto));
  if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && n >= header + 4)
    key.append(reinterpret_cast<const char*>(p) + header, 4);
  return key;
}

struct Stats {
  uint64_t packets = 0, verdicts = 0, verdict_errors = 0, overruns = 0;
  size_t max_held = 0;
  double delay_sum_ms = 0, delay_max_ms = 0, late_sum_ms = 0, late_max_ms = 0;
};

class Delayer {
 public:
  explicit Delayer(const Options& o) : o_(o), rng_(o.seed) {}
  void Open();
  void Run();
  void Report() const;

 private:
  void SendOrDie(const std::vector<char>& bytes);
  void Configure(Request req);
  void Receive(bool want_ack, uint32_t ack_seq);
  bool Dispatch(const nlmsghdr* h, uint32_t ack_seq);
  void OnPacket(const nlmsghdr* h);
  void ReleaseDue(Clock::time_point now, bool all);
  Clock::duration Draw();

  Options o_;
  int fd_ = -1;
  uint32_t seq_ = 0;
  bool acked_ = false;
  std::mt19937_64 rng_;
  uint64_t order_ = 0;
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held_;
  std::map<std::string, Clock::time_point> flow_last_;  // last planned release per flow
  Clock::time_point next_prune_ = Clock::now();
  Stats s_;
  std::vector<char> rx_ = std::vector<char>(1 << 17);
};

void Delayer::SendOrDie(const std::vector<char>& bytes) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) < 0)
    Die(std::string("netlink send: ") + std::strerror(errno));
}

// Sends one config request and waits for the kernel's acknowledgement.
void Delayer::Configure(Request req) {
  acked_ = false;
  SendOrDie(req.Bytes());
  while (!acked_) Receive(true, seq_);
}

void Delayer::Open() {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd_ < 0) Die(std::string("netlink socket: ") + std::strerror(errno));
  const int rcvbuf = 16 << 20;  // a burst of queued packets must not overflow the socket
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    Die(std::string("netlink bind: ") + std::strerror(errno));

  Request bind_req(NFQNL_MSG_CONFIG, NLM_F_ACK, o_.queue, ++seq_);
  nfqnl_msg_config_cmd cmd{};
  cmd.command = NFQNL_CFG_CMD_BIND;
  bind_req.Attr(NFQA_CFG_CMD, &cmd, sizeof cmd);
  Configure(bind_req);

  Request params(NFQNL_MSG_CONFIG, NLM_F_ACK, o_.queue, ++seq_);
  nfqnl_msg_config_params p{};
  p.copy_range = htonl(128);  // headers are enough to tell the flow
  p.copy_mode = NFQNL_COPY_PACKET;
  params.Attr(NFQA_CFG_PARAMS, &p, sizeof p);
  const uint32_t maxlen = htonl(o_.max_held);
  params.Attr(NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
  // GSO packets are queued whole (as the loss rule sees them), not segmented for us.
  const uint32_t flags = htonl(NFQA_CFG_F_GSO);
  params.Attr(NFQA_CFG_MASK, &flags, sizeof flags);
  params.Attr(NFQA_CFG_FLAGS, &flags, sizeof flags);
  Configure(params);
  std::fprintf(stderr, "netdelay: queue %u ready (delay %.1f ms, jitter %.1f ms, %s)\n", o_.queue,
               o_.delay_ms, o_.jitter_ms,
               o_.reorder ? "reordering allowed" : "per-flow order kept");
}

// Reads what the socket holds (blocking for the first message when want_ack).
void Delayer::Receive(bool want_ack, uint32_t ack_seq) {
  for (bool first = true;; first = false) {
    const ssize_t n = recv(fd_, rx_.data(), rx_.size(), first && want_ack ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ENOBUFS) {  // the kernel dropped messages: those packets were dropped
        ++s_.overruns;
        continue;
      }
      Die(std::string("netlink recv: ") + std::strerror(errno));
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(rx_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (Dispatch(h, ack_seq) && want_ack) acked_ = true;
    }
  }
}

// Handles one message; returns true when it is the acknowledgement of ack_seq.
bool Delayer::Dispatch(const nlmsghdr* h, uint32_t ack_seq) {
  if (h->nlmsg_type == NLMSG_ERROR) {
    nlmsgerr e{};
    std::memcpy(&e, NLMSG_DATA(h), std::min<size_t>(sizeof e, h->nlmsg_len - NLMSG_HDRLEN));
    if (h->nlmsg_seq == ack_seq && ack_seq != 0) {
      if (e.error != 0)
        Die("binding queue " + std::to_string(o_.queue) + ": " + std::strerror(-e.error) +
            " (is nfnetlink_queue in the kernel, are we root, is the queue free?)");
      return true;
    }
    if (e.error != 0) ++s_.verdict_errors;
    return false;
  }
  if (h->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) OnPacket(h);
  return false;
}

Clock::duration Delayer::Draw() {
  double ms = o_.delay_ms;
  if (o_.jitter_ms > 0)
    ms += std::uniform_real_distribution<double>(-o_.jitter_ms, o_.jitter_ms)(rng_);
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(std::max(0.0, ms)));
}

void Delayer::OnPacket(const nlmsghdr* h) {
  const auto now = Clock::now();
  const char* at = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
  const char* end = reinterpret_cast<const char*>(h) + h->nlmsg_len;
  bool have_id = false;
  uint32_t id = 0;
  std::string flow;
  while (at + NLA_HDRLEN <= end) {
    nlattr a{};
    std::memcpy(&a, at, sizeof a);
    if (a.nla_len < NLA_HDRLEN || at + a.nla_len > end) break;
    const auto* data = reinterpret_cast<const unsigned char*>(at + NLA_HDRLEN);
    const size_t len = a.nla_len - NLA_HDRLEN;
    const int type = a.nla_type & NLA_TYPE_MASK;
    if (type == NFQA_PACKET_HDR && len >= sizeof(uint32_t)) {
      std::memcpy(&id, data, sizeof id);
      id = ntohl(id);
      have_id = true;
    } else if (type == NFQA_PAYLOAD) {
      flow = FlowKey(data, len);
    }
    at += NLA_ALIGN(a.nla_len);
  }
  if (!have_id) return;
  ++s_.packets;
  Clock::time_point release = now + Draw();
  if (!o_.reorder) {
    Clock::time_point& last = flow_last_[flow];
    release = std::max(release, last);
    last = release;
  }
  held_.push({release, order_++, id, now});
  s_.max_held = std::max(s_.max_held, held_.size());
}

// Gives the verdicts that are due (all of them when `all`), then forgets idle flows.
void Delayer::ReleaseDue(Clock::time_point now, bool all) {
  while (!held_.empty() && (all || held_.top().release <= now)) {
    const Held p = held_.top();
    held_.pop();
    Request v(NFQNL_MSG_VERDICT, 0, o_.queue, 0);
    nfqnl_msg_verdict_hdr vh{};
    vh.verdict = htonl(NF_ACCEPT);
    vh.id = htonl(p.packet_id);
    v.Attr(NFQA_VERDICT_HDR, &vh, sizeof vh);
    SendOrDie(v.Bytes());
    const auto sent = Clock::now();
    const double delay = std::chrono::duration<double, std::milli>(sent - p.arrived).count();
    const double late =
        all ? 0 : std::chrono::duration<double, std::milli>(sent - p.release).count();
    ++s_.verdicts;
    s_.delay_sum_ms += delay;
    s_.delay_max_ms = std::max(s_.delay_max_ms, delay);
    s_.late_sum_ms += late;
    s_.late_max_ms = std::max(s_.late_max_ms, late);
  }
  if (now >= next_prune_) {
    std::erase_if(flow_last_, [&](const auto& e) { return e.second < now; });
    next_prune_ = now + std::chrono::seconds(5);
  }
}

void Delayer::Run() {
  sigset_t blocked, during_poll;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigprocmask(SIG_BLOCK, &blocked, &during_poll);  // signals arrive only inside ppoll
  sigdelset(&during_poll, SIGINT);
  sigdelset(&during_poll, SIGTERM);
  while (!g_stop) {
    timespec wait{};
    timespec* timeout = nullptr;
    if (!held_.empty()) {
      const auto d = std::max(Clock::duration::zero(), held_.top().release - Clock::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
      wait.tv_sec = static_cast<time_t>(ns / 1000000000);
      wait.tv_nsec = static_cast<long>(ns % 1000000000);
      timeout = &wait;
    }
    pollfd p{fd_, POLLIN, 0};
    const int r = ppoll(&p, 1, timeout, &during_poll);
    if (r < 0 && errno != EINTR) Die(std::string("ppoll: ") + std::strerror(errno));
    if (r > 0) Receive(false, 0);
    ReleaseDue(Clock::now(), false);
  }
  Receive(false, 0);
  ReleaseDue(Clock::now(), true);
}

void Delayer::Report() const {
  const double n = static_cast<double>(std::max<uint64_t>(1, s_.verdicts));
  std::fprintf(stderr,
               "netdelay: queue %u: packets=%llu verdicts=%llu verdict_errors=%llu "
               "overruns=%llu max_held=%zu delay_mean_ms=%.2f delay_max_ms=%.2f "
               "late_mean_ms=%.3f late_max_ms=%.2f\n",
               o_.queue, static_cast<unsigned long long>(s_.packets),
               static_cast<unsigned long long>(s_.verdicts),
               static_cast<unsigned long long>(s_.verdict_errors),
               static_cast<unsigned long long>(s_.overruns), s_.max_held, s_.delay_sum_ms / n,
               s_.delay_max_ms, s_.late_sum_ms / n, s_.late_max_ms);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Delayer delayer(options);
  delayer.Open();
  delayer.Run();
  delayer.Report();
  return 0;
}
