// `llm-otel prices list|set|import`: the price table of a call log. User rows override the built-in
// table (generated from @pydantic/genai-prices). A price change is a new row valid from a date, so
// calls already costed keep their price (and their price_id).

import { existsSync, readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { errorMessage } from '../core/warn.js';
import {
  addUserPrice,
  BUILTIN_SOURCE,
  PriceBook,
  type PriceFile,
  PriceFileError,
  type PriceRow,
  parsePriceFile,
  parsePriceRow,
} from '../cost/index.js';
import { dbPath, isFleet, openRead, openWrite, refuseFleet } from './call-log.js';
import { notFound, usage } from './errors.js';
import { dbOption, nonEmpty, parseTime } from './options.js';
import { table, write, writeJson } from './output.js';

function rate(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a price per million tokens (a number ≥ 0); got ${JSON.stringify(v)}`);
  return n;
}

interface ListOptions {
  db?: string;
  model?: string;
  provider?: string;
  source?: string;
  json?: boolean;
}
interface SetOptions {
  db?: string;
  input?: number;
  output?: number;
  cached?: number;
  provider?: string;
  currency?: string;
  from?: string;
  to?: string;
  like?: string;
  json?: boolean;
}

function rowCells(r: PriceRow): string[] {
  const f = (n: number | null): string => (n === null ? '-' : String(n));
  return [
    r.id === undefined ? '' : String(r.id),
    r.source,
    r.provider ?? '*',
    r.model_pattern,
    f(r.input_per_mtok),
    f(r.cached_input_per_mtok),
    f(r.output_per_mtok),
    r.currency,
    r.valid_from?.slice(0, 10) ?? '',
    r.valid_to?.slice(0, 10) ?? '',
  ];
}
const FLEET_WHY =
  "prices are kept in each app's local call log (or LLM_OTEL_PRICES), where calls are costed; the fleet database receives them from there. Give --db the local file";

const HEAD = ['id', 'source', 'provider', 'model', 'input/1M', 'cached/1M', 'output/1M', 'currency', 'from', 'until'];
const ALIGN = ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'] as const;

/** The book of a call log: its rows (user + mirrored built-in), or the built-in table if it has none. */
async function bookOf(path: string): Promise<PriceBook> {
  if (!isFleet(path) && !existsSync(path)) return PriceBook.builtin();
  const db = await openRead(path);
  try {
    const book = PriceBook.fromTable((await db.priceRows()) as unknown as PriceRow[]);
    const hasBuiltin = book.rows().some((r) => r.source === 'builtin');
    return hasBuiltin ? book : PriceBook.builtin().withOverrides(book.rows());
  } finally {
    await db.close();
  }
}

export function registerPrices(program: Command): void {
  const prices = program.command('prices').description('the price table: list, set, import');

  const list = prices
    .command('list')
    .description('price rows (user rows override built-in ones)')
    .addOption(new Option('--model <name>', 'show only the row that prices this model (as a call would be matched)').argParser(nonEmpty))
    .addOption(new Option('--provider <name>', 'only rows of this provider').argParser(nonEmpty))
    .addOption(new Option('--source <source>', 'builtin|user').choices(['builtin', 'user']))
    .option('--json', 'machine-readable JSON output');
  dbOption(list);
  list.action(async (o: ListOptions) => {
    const book = await bookOf(dbPath(o));
    let rows: PriceRow[];
    if (o.model) {
      const hit = book.match(o.provider, o.model, new Date());
      if (!hit)
        throw notFound(
          `no price for ${o.model}${o.provider ? ` (${o.provider})` : ''}: its calls get no cost. Add one with: llm-otel prices set ${o.model} --input <rate> --output <rate>`,
        );
      rows = [hit];
    } else {
      rows = book.rows().filter((r) => (!o.provider || r.provider === o.provider) && (!o.source || r.source === o.source));
    }
    if (o.json) {
      writeJson({ source: BUILTIN_SOURCE, prices: rows });
      return;
    }
    // No id column: a row id is one file's own, and the list reads the same from every store.
    write(
      table(
        HEAD.slice(1),
        rows.map((r) => rowCells(r).slice(1)),
        ALIGN.slice(1),
      ),
    );
    write(
      `(${rows.length} row${rows.length === 1 ? '' : 's'}; rates per million tokens; built-in rows from ${BUILTIN_SOURCE.package} ${BUILTIN_SOURCE.version})`,
    );
  });

  const set = prices
    .command('set')
    .description('add a user price for a model (or a deployment name) from now, or --from a date')
    .argument('<model>', 'model name or pattern with * (e.g. gpt-4o, my-azure-deployment, qwen-*)')
    .addOption(new Option('--input <rate>', 'input price per 1M tokens').argParser(rate))
    .addOption(new Option('--output <rate>', 'output price per 1M tokens').argParser(rate))
    .addOption(new Option('--cached <rate>', 'cached-input price per 1M tokens (default: the input price)').argParser(rate))
    .addOption(new Option('--provider <name>', 'only for this provider (gen_ai.provider.name, e.g. azure.ai.openai)').argParser(nonEmpty))
    .addOption(new Option('--currency <code>', 'USD, CNY, EUR … (default USD)').argParser(nonEmpty))
    .addOption(new Option('--from <when>', 'valid from (ISO date or 7d ago; default now)').argParser((v: string) => parseTime(v)))
    .addOption(new Option('--to <when>', 'valid until (ISO date)').argParser((v: string) => parseTime(v)))
    .addOption(
      new Option('--like <model>', 'copy the rates of the row that prices this model (an alias for an Azure deployment name)').argParser(
        nonEmpty,
      ),
    )
    .option('--json', 'machine-readable JSON output');
  dbOption(set);
  set.action(async (model: string, o: SetOptions) => {
    const path = dbPath(o);
    refuseFleet(path, 'prices set', FLEET_WHY);
    let base: Partial<PriceRow> = {};
    if (o.like) {
      const hit = (await bookOf(path)).match(o.provider, o.like, new Date());
      if (!hit) throw notFound(`no price for ${o.like} to copy`);
      base = {
        input_per_mtok: hit.input_per_mtok,
        cached_input_per_mtok: hit.cached_input_per_mtok,
        output_per_mtok: hit.output_per_mtok,
        currency: hit.currency,
      };
    } else if (o.input === undefined && o.output === undefined) {
      throw usage('prices set: give --input and/or --output (per 1M tokens), or --like <model>');
    }
    let row: PriceRow;
    try {
      row = parsePriceRow(
        {
          model_pattern: model,
          provider: o.provider ?? null,
          input_per_mtok: o.input ?? base.input_per_mtok ?? null,
          cached_input_per_mtok: o.cached ?? (o.input === undefined ? base.cached_input_per_mtok : null) ?? null,
          output_per_mtok: o.output ?? base.output_per_mtok ?? null,
          currency: o.currency ?? base.currency ?? 'USD',
          valid_from: o.from ?? null,
          valid_to: o.to ?? null,
        },
        'prices set',
      );
    } catch (e) {
      throw usage(e instanceof PriceFileError ? e.message : String(e));
    }
    const db = openWrite(path, { create: true });
    try {
      const r = (() => {
        try {
          return addUserPrice(db, row);
        } catch (e) {
          throw usage(`prices set: ${errorMessage(e)}`);
        }
      })();
      const saved = db.prepare('SELECT * FROM model_prices WHERE id = ?').get(r.id) as PriceRow;
      if (o.json) {
        writeJson({ price: saved, closed: r.closed, replaced: r.replaced });
        return;
      }
      write(table(HEAD, [rowCells(saved)], [...ALIGN]));
      if (r.closed) write(`(the previous price for ${model} now ends at ${saved.valid_from}; calls before keep it)`);
    } finally {
      db.close();
    }
  });

  const imp = prices
    .command('import')
    .description('add user prices from a JSON file: [rows] or {"prices": [rows], "aliases": {"deployment": "model"}}')
    .argument('<file>', 'JSON file (same format as LLM_OTEL_PRICES)')
    .option('--json', 'machine-readable JSON output');
  dbOption(imp);
  imp.action(async (file: string, o: { db?: string; json?: boolean }) => {
    refuseFleet(dbPath(o), 'prices import', FLEET_WHY);
    let parsed: PriceFile;
    try {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw usage(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`);
      }
      parsed = parsePriceFile(text, file);
    } catch (e) {
      throw e instanceof PriceFileError ? usage(e.message) : e;
    }
    const path = dbPath(o);
    // Aliases become rows of their own with the target's current rates ("alias rows").
    const aliasRows: PriceRow[] = [];
    if (Object.keys(parsed.aliases).length > 0) {
      const book = (await bookOf(path)).withOverrides(parsed.rows);
      for (const [alias, target] of Object.entries(parsed.aliases)) {
        const hit = book.match(undefined, target, new Date());
        if (!hit) throw usage(`${file}: alias ${JSON.stringify(alias)} → ${JSON.stringify(target)}: no price for ${target}`);
        aliasRows.push({ ...hit, id: undefined, provider: null, model_pattern: alias, valid_from: null, valid_to: null, source: 'user' });
      }
    }
    const db = openWrite(path, { create: true });
    const ids: number[] = [];
    try {
      for (const row of [...parsed.rows, ...aliasRows]) {
        try {
          ids.push(addUserPrice(db, row).id);
        } catch (e) {
          throw usage(`prices import: ${row.model_pattern}: ${errorMessage(e)}`);
        }
      }
    } finally {
      db.close();
    }
    if (o.json) {
      writeJson({ imported: ids.length, ids });
      return;
    }
    write(
      `imported ${ids.length} price row${ids.length === 1 ? '' : 's'} (${parsed.rows.length} prices, ${aliasRows.length} aliases) into ${path}`,
    );
  });
}
