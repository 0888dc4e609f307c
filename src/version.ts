// The product's name and version as it introduces itself to servers.

export const VERSION = '0.1.0';
export const PRODUCT_USER_AGENT = `steppewatch/${VERSION} (+https://github.com/steppewatch/steppewatch; news-monitoring bot)`;
