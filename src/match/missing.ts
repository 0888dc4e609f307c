// Why a watchlist did not match an item, from the word forms of the item some query asks about
// (the matcher notes them for items that match nothing): the required parts of the query that
// none of those forms satisfies, each named by a few of its terms.

import type { Watchlist } from './matcher.js';
import { queryTerms, type QueryNode, type TermNode } from './query.js';

const TERMS_SHOWN = 5;

function termPresent(term: TermNode, forms: ReadonlySet<string>, formList: readonly string[]): boolean {
  const last = term.tokens.length - 1;
  return term.tokens.every((token, i) => (term.prefix && i === last ? formList.some((f) => f.startsWith(token)) : forms.has(token)));
}

/** Whether the node holds on word presence alone (phrases and NEAR read as "all their words occur"). */
function holds(node: QueryNode, forms: ReadonlySet<string>, formList: readonly string[]): boolean {
  switch (node.kind) {
    case 'term':
      return termPresent(node, forms, formList);
    case 'near':
      return holds(node.left, forms, formList) && holds(node.right, forms, formList);
    case 'and':
      return node.children.every((c) => holds(c, forms, formList));
    case 'or':
      return node.children.some((c) => holds(c, forms, formList));
    case 'not':
      return !holds(node.child, forms, formList);
  }
}

/** A part of a query as a few of its terms: `protest* or "state of emergency" or …`. */
function describePart(node: QueryNode): string {
  if (node.kind === 'not') return `-${describePart(node.child)}`;
  const labels = [...new Set(queryTerms(node, { excluded: false }).map((t) => t.label))];
  const shown = labels.slice(0, TERMS_SHOWN).join(' | ');
  return labels.length > TERMS_SHOWN ? `${shown} | …` : shown;
}

/**
 * The parts of the watchlist's query the item lacks (an excluded term it has reads `-term`);
 * empty when presence alone would satisfy it (the words were too far apart, or not in order).
 */
export function missingParts(watchlist: Watchlist, present: readonly string[]): string[] {
  const forms = new Set(present);
  const parts = watchlist.ast.kind === 'and' ? watchlist.ast.children : [watchlist.ast];
  return parts.filter((part) => !holds(part, forms, present)).map(describePart);
}
