/** Character codes the YAML scanners compare `charCodeAt` against (the fast parser, the PyYAML compat scan). */
export const CH_TAB = 9;
export const CH_NL = 10;
export const CH_CR = 13;
export const CH_SP = 32;
export const CH_DQ = 34;
export const CH_HASH = 35;
export const CH_SQ = 39;
export const CH_DASH = 45;
export const CH_COLON = 58;
export const CH_BACKSLASH = 92;
