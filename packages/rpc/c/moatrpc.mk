# Make fragment for consumers of the moat RPC C library (the guest agent):
#   include $(MOAT_RPC_DIR)/moatrpc.mk
#   CFLAGS += $(MOAT_RPC_CFLAGS)          # headers + the nanopb configuration the library uses
#   LDLIBS += $(MOAT_RPC_LIB_MUSL)        # or $(MOAT_RPC_LIB_HOST) for a glibc build
# Build the library first: make -C $(MOAT_RPC_DIR) (or pnpm --filter @moat/rpc build).
MOAT_RPC_DIR ?= $(dir $(lastword $(MAKEFILE_LIST)))
MOAT_RPC_CFLAGS = -DPB_ENABLE_MALLOC=1 -I$(MOAT_RPC_DIR)/include \
  -I$(MOAT_RPC_DIR)/build/generated -I$(MOAT_RPC_DIR)/build/nanopb/include
MOAT_RPC_LIB_HOST = $(MOAT_RPC_DIR)/build/host/libmoatrpc.a
MOAT_RPC_LIB_MUSL = $(MOAT_RPC_DIR)/build/musl/libmoatrpc.a
