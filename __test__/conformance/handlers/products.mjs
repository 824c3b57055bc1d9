// The product CSV the batch templates analyse (data/products.csv): a header,
// then one product a line. Row numbers start at 1 (the template's cursor_field
// is row_number); a row without a price is invalid.
import { readFile } from 'node:fs/promises';

export async function readProducts(path) {
  const [header, ...lines] = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const columns = header.split(',');
  return lines.map((line, i) => {
    const row = Object.fromEntries(line.split(',').map((value, c) => [columns[c], value.trim()]));
    return { rowNumber: i + 1, sku: row.sku, price: row.price === '' ? null : Number(row.price), stock: Number(row.stock) };
  });
}

/** Rows `start` (inclusive) to `end` (exclusive), by row number. */
export const rowsBetween = (rows, start, end) => rows.slice(start - 1, end - 1);

export const EMPTY_TALLY = { rows_processed: 0, valid_products: 0, invalid_products: 0, low_stock_items: 0, out_of_stock_items: 0 };

/** Inventory metrics of some rows; low stock is 1-9 units. */
export function tallyInventory(rows) {
  const tally = { ...EMPTY_TALLY, rows_processed: rows.length };
  for (const row of rows) {
    if (row.price === null || Number.isNaN(row.price)) {
      tally.invalid_products++;
      continue;
    }
    tally.valid_products++;
    if (row.stock === 0) tally.out_of_stock_items++;
    else if (row.stock < 10) tally.low_stock_items++;
  }
  return tally;
}

export const addTallies = (a, b) => Object.fromEntries(Object.keys(EMPTY_TALLY).map((k) => [k, a[k] + b[k]]));
