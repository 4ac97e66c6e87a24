/**
 * Text for XML 1.0 content and attribute values: markup characters become character references,
 * and so do tab, newline and carriage return (an attribute would normalise them away); characters
 * XML cannot hold at all (other controls, U+FFFE, U+FFFF, lone surrogates) become U+FFFD, so the
 * document stays well-formed whatever a name holds.
 */

const ILLEGAL =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MARKUP = /[&<>"'\t\n\r]/g;

/**
 * Escaped text for an XML attribute value or element content.
 *
 * @example xmlText('a<b>"&\n') // "a&#60;b&#62;&#34;&#38;&#10;"
 */
export function xmlText(s: string): string {
  return s.replace(ILLEGAL, "\ufffd").replace(MARKUP, (c) => `&#${c.charCodeAt(0)};`);
}
