#!/usr/bin/env node
// The `llm-otel` command: the CLI lives in the CommonJS build (fast start, no loader hooks).
'use strict';
require('../dist/cjs/src/cli/main.js').run();
