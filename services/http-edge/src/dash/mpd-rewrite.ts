import { ProxyError } from '@srs-proxy/runtime';
import { tagUri, type TagContext } from '../uri-tag.ts';

export const BAD_MANIFEST = 'SRSP_ERR_BAD_MANIFEST';

/** The origin's body is not a DASH manifest (no `<MPD` root element). */
export class ManifestError extends ProxyError {
  constructor(message: string) {
    super(BAD_MANIFEST, message, { status: 502 });
  }
}

/**
 * Attributes holding a URL (or URL template) the player fetches, per element (ISO/IEC 23009-1).
 * Template identifiers such as `$Number$` survive: the query is appended after the path.
 */
const URL_ATTRIBUTES: Record<string, readonly string[]> = {
  SegmentTemplate: ['media', 'initialization', 'index', 'bitstreamSwitching'],
  SegmentURL: ['media', 'index'],
  Initialization: ['sourceURL'],
  RepresentationIndex: ['sourceURL'],
  BitstreamSwitching: ['sourceURL'],
};

/** Elements whose text content is a URL: segment bases and the manifest's refresh location. */
const URL_TEXT_ELEMENTS = new Set(['BaseURL', 'Location']);

export interface ManifestRewrite {
  text: string;
  tagged: number;
  foreign: number;
}

type Ctx = Omit<TagContext, 'separator'>;

/** Index of the `>` closing the tag opened before `from`, skipping quoted attribute values; -1 if none. */
function tagEnd(text: string, from: number): number {
  let quote = '';
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return j;
    }
  }
  return -1;
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon >= 0 ? qname.slice(colon + 1) : qname;
}

/** Rewrites the URL attributes of one start tag (`<Name a="…" b='…'>`), quotes preserved. */
function rewriteStartTag(tag: string, attrs: readonly string[], ctx: TagContext, counts: ManifestRewrite): string {
  return tag.replace(/(\s)([A-Za-z_][\w.:-]*)(\s*=\s*)("([^"]*)"|'([^']*)')/g, (whole, sp: string, name: string, eq: string, _q, dq?: string, sq?: string) => {
    if (!attrs.includes(localName(name))) return whole;
    const value = dq ?? sq ?? '';
    const r = tagUri(value, ctx);
    if (r.outcome === 'tagged') counts.tagged++;
    else if (r.outcome === 'foreign') counts.foreign++;
    const quote = dq !== undefined ? '"' : "'";
    return `${sp}${name}${eq}${quote}${r.text}${quote}`;
  });
}

/**
 * Adds `spbhid=<id>` to every URL a DASH player fetches from an MPD: segment templates, segment
 * lists, initialization and index references, and `BaseURL`/`Location` text. A scanner over the
 * XML tags (comments, CDATA and declarations skipped), not a DOM: the rest of the document is
 * kept byte for byte. The separator inside XML is `&amp;`.
 */
export function rewriteManifest(text: string, ctx: Ctx): ManifestRewrite {
  const tagCtx: TagContext = { ...ctx, separator: '&amp;' };
  if (!/<(?:[A-Za-z_][\w.-]*:)?MPD[\s>/]/.test(text)) throw new ManifestError('origin response is not a DASH manifest (no <MPD> element)');
  const counts: ManifestRewrite = { text: '', tagged: 0, foreign: 0 };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, lt);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      const stop = end < 0 ? text.length : end + 3;
      out += text.slice(lt, stop);
      i = stop;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      const stop = end < 0 ? text.length : end + 3;
      out += text.slice(lt, stop);
      i = stop;
      continue;
    }
    const gt = tagEnd(text, lt + 1);
    if (gt < 0) {
      out += text.slice(lt);
      break;
    }
    const tag = text.slice(lt, gt + 1);
    i = gt + 1;
    const m = /^<([A-Za-z_][\w.:-]*)/.exec(tag);
    if (!m) {
      // End tags, declarations, processing instructions.
      out += tag;
      continue;
    }
    const name = localName(m[1]!);
    const attrs = URL_ATTRIBUTES[name];
    out += attrs ? rewriteStartTag(tag, attrs, tagCtx, counts) : tag;
    if (URL_TEXT_ELEMENTS.has(name) && !tag.endsWith('/>')) {
      const close = text.indexOf('<', i);
      if (close < 0) continue;
      const r = tagUri(text.slice(i, close), tagCtx);
      if (r.outcome === 'tagged') counts.tagged++;
      else if (r.outcome === 'foreign') counts.foreign++;
      out += r.text;
      i = close;
    }
  }
  counts.text = out;
  return counts;
}
