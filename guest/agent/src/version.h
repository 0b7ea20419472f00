/** The agent's version, reported in HELLO and health (keep in step with package.json). */
#ifndef MOAT_AGENT_VERSION
#define MOAT_AGENT_VERSION "0.1.0"
#endif
