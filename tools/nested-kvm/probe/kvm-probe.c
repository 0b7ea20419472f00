/*
 * kvm-probe: checks that /dev/kvm runs guest code at CPL0 in long mode, and how fast.
 *
 * Creates a VM with 2 MiB of memory, identity-maps it with one 2 MiB page, enters 64-bit mode at
 * CPL0 directly (segments, CR0/CR4/EFER set through KVM_SET_SREGS), and runs a payload that reads CR3
 * (a privileged instruction: it faults at CPL3), counts a register down from N, and halts. The host
 * checks the HLT exit, that RBX holds the CR3 value and RCX reached 0, and prints iterations/s.
 *
 * usage: kvm-probe [iterations]   (default 50000000). Exit 0 on success, 1 on any failure (stderr).
 * KVM_PROBE_4K=1 maps the memory with 4 KiB pages instead of one 2 MiB page. A watchdog reports the
 * vCPU's RIP every 5 s while KVM_RUN has not returned and gives up after 15 s (a KVM that never enters
 * the guest, e.g. an L1 kernel whose TSC frequency is unknown, spins there at the first instruction).
 * On the nested harness's L1 (QEMU TCG + SVM) this runs at ~10^8 iterations/s; on a PVM host whose
 * CPL0 is emulated it is orders of magnitude slower, which is exactly what it is there to show.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum {
  GUEST_MEMORY_SIZE = 2 << 20,
  PML4_ADDR = 0x1000,
  PDPT_ADDR = 0x2000,
  PD_ADDR = 0x3000,
  CODE_ADDR = 0x4000,
  PT_ADDR = 0x5000,
  STACK_TOP = GUEST_MEMORY_SIZE,
};

#define PTE_PRESENT 0x1ull
#define PTE_WRITABLE 0x2ull
#define PTE_LARGE 0x80ull
#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

/* A watchdog: KVM_RUN is interrupted every WATCHDOG_SECONDS to report where the vCPU is. */
enum { WATCHDOG_SECONDS = 5, WATCHDOG_LIMIT = 3 };
static void on_alarm(int signal_number) { (void)signal_number; }

static void die(const char *what) {
  fprintf(stderr, "kvm-probe: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *message) {
  fprintf(stderr, "kvm-probe: %s\n", message);
  exit(1);
}

static int kvm_ioctl(int fd, unsigned long request, void *arg, const char *what) {
  int result = ioctl(fd, request, arg);
  if (result < 0) die(what);
  return result;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Payload: mov rax,cr3; mov rbx,rax; movabs rcx,N; 1: dec rcx; jnz 1b; hlt */
static size_t write_payload(uint8_t *code, uint64_t iterations) {
  static const uint8_t head[] = {0x0f, 0x20, 0xd8, 0x48, 0x89, 0xc3, 0x48, 0xb9};
  static const uint8_t tail[] = {0x48, 0xff, 0xc9, 0x75, 0xfb, 0xf4};
  size_t n = 0;
  memcpy(code + n, head, sizeof head);
  n += sizeof head;
  memcpy(code + n, &iterations, sizeof iterations);
  n += sizeof iterations;
  memcpy(code + n, tail, sizeof tail);
  return n + sizeof tail;
}

static void set_long_mode(int vcpu) {
  struct kvm_sregs sregs;
  kvm_ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  struct kvm_segment code = {
      .base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 11, .present = 1,
      .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
  };
  struct kvm_segment data = code;
  data.selector = 0x10;
  data.type = 3;
  data.l = 0;
  data.db = 1;
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.cr3 = PML4_ADDR;
  sregs.cr4 = CR4_PAE;
  sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  sregs.efer = EFER_LME | EFER_LMA;
  kvm_ioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS (long mode)");
}

static void set_cpuid(int kvm, int vcpu) {
  int entries = 128;
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + (size_t)entries * sizeof(struct kvm_cpuid_entry2));
  if (!cpuid) fail("out of memory");
  cpuid->nent = (uint32_t)entries;
  kvm_ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
  kvm_ioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
  free(cpuid);
}

int main(int argc, char **argv) {
  uint64_t iterations = 50000000;
  if (argc > 1) {
    char *end = NULL;
    iterations = strtoull(argv[1], &end, 10);
    if (!end || *end || iterations == 0) {
      fprintf(stderr, "kvm-probe: iterations must be a positive whole number, got '%s'\n", argv[1]);
      return 2;
    }
  }

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm (is KVM built in and the CPU's virtualization exposed?)");
  if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) fail("unexpected KVM API version");
  int vm = kvm_ioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");

  uint8_t *memory = mmap(NULL, GUEST_MEMORY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) die("mmap guest memory");
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEMORY_SIZE, .userspace_addr = (uint64_t)(uintptr_t)memory,
  };
  kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

  uint64_t *pml4 = (uint64_t *)(memory + PML4_ADDR);
  uint64_t *pdpt = (uint64_t *)(memory + PDPT_ADDR);
  uint64_t *pd = (uint64_t *)(memory + PD_ADDR);
  pml4[0] = PDPT_ADDR | PTE_PRESENT | PTE_WRITABLE;
  pdpt[0] = PD_ADDR | PTE_PRESENT | PTE_WRITABLE;
  if (getenv("KVM_PROBE_4K")) {
    uint64_t *pt = (uint64_t *)(memory + PT_ADDR);
    for (uint64_t i = 0; i < 512; i++) pt[i] = (i << 12) | PTE_PRESENT | PTE_WRITABLE;
    pd[0] = PT_ADDR | PTE_PRESENT | PTE_WRITABLE;
  } else {
    pd[0] = 0 | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
  }
  write_payload(memory + CODE_ADDR, iterations);

  int vcpu = kvm_ioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
  int run_size = kvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  set_cpuid(kvm, vcpu);
  set_long_mode(vcpu);
  struct kvm_regs regs = {.rip = CODE_ADDR, .rflags = 0x2, .rsp = STACK_TOP};
  kvm_ioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");

  struct sigaction alarm_action = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &alarm_action, NULL); /* no SA_RESTART: KVM_RUN returns EINTR */
  int alarms = 0;
  double start = now_seconds();
  alarm(WATCHDOG_SECONDS);
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno != EINTR) die("KVM_RUN");
      kvm_ioctl(vcpu, KVM_GET_REGS, &regs, "KVM_GET_REGS");
      fprintf(stderr, "kvm-probe: still in KVM_RUN after %d s: rip=0x%llx rcx=%llu\n", (alarms + 1) * WATCHDOG_SECONDS,
              (unsigned long long)regs.rip, (unsigned long long)regs.rcx);
      if (++alarms == WATCHDOG_LIMIT) fail("the guest payload did not finish: KVM does not run CPL0 code here at a usable speed");
      alarm(WATCHDOG_SECONDS);
      continue;
    }
    if (run->exit_reason == KVM_EXIT_HLT) break;
    fprintf(stderr, "kvm-probe: unexpected exit reason %u (hardware reason 0x%llx)\n", run->exit_reason,
            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
    return 1;
  }
  double elapsed = now_seconds() - start;
  alarm(0);

  struct kvm_sregs sregs;
  kvm_ioctl(vcpu, KVM_GET_REGS, &regs, "KVM_GET_REGS");
  kvm_ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  if (regs.rbx != PML4_ADDR) fail("the payload's CR3 read returned the wrong value");
  if (regs.rcx != 0) fail("the payload's loop did not finish");
  if (sregs.cs.dpl != 0 || !(sregs.efer & EFER_LMA) || !sregs.cs.l) fail("the vCPU was not in 64-bit mode at CPL0");
  printf("kvm-probe: long mode CPL0 ok: %llu iterations in %.3f s = %.1f M iterations/s\n",
         (unsigned long long)iterations, elapsed, (double)iterations / elapsed / 1e6);
  return 0;
}
