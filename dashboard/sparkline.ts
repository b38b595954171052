const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 100;
const HEIGHT = 24;

/** A small inline SVG line of `values`, scaled to its own maximum (a flat line at the bottom when all are 0). */
export function sparkline(values: number[], label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const title = document.createElementNS(SVG, "title");
  title.textContent = label;
  svg.appendChild(title);
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1);
  const step = WIDTH / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - 1 - (v / max) * (HEIGHT - 2)).toFixed(1)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.appendChild(line);
  return svg;
}
