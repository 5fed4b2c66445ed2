/** A small element builder: text always goes in as text, never as HTML. */

/** `<name attributes...>children</name>`; children are nodes or strings, null ones are skipped. */
export function h(name, attributes = {}, ...children) {
  const element = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (value != null) element.setAttribute(key, value);
  }
  element.append(...children.filter((child) => child != null));
  return element;
}
