// Where the files that ship with the package live, whether we run from src/ (tests) or dist/.

import { fileURLToPath } from 'node:url';

/** The package's own config/ folder (presets, demo feeds). */
export const BUNDLED_CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/** The config file used when neither --config nor STEPPEWATCH_CONFIG says otherwise. */
export const DEFAULT_CONFIG_FILE = 'config/steppewatch.yaml';
