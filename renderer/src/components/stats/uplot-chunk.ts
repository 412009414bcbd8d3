// uPlot and its stylesheet as one lazily loaded chunk (Chart.tsx imports this dynamically).
import 'uplot/dist/uPlot.min.css';
export { default } from 'uplot';
