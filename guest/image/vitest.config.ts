/** vitest project of guest/image: the writable-disk tests and the guest-alone QEMU boot test. */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(shared, defineProject({ test: { name: "guest-image" } }));
