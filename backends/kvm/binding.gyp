# The KVM backend addon: native/*.cc (KVM hypervisor layer + N-API glue) and the shared VMM
# (../vmm/src/**/*.cc), C++20 with exceptions. Built by scripts/build-native.mjs (node-gyp).
{
  "targets": [
    {
      "target_name": "moat_kvm",
      "sources": ["<!@(node scripts/vmm-sources.cjs)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../vmm/src",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lpthread"]
    }
  ]
}
