import SchemaBuilder, {
  BasePlugin,
  mapInputFields,
  resolveInputTypeConfig,
  type InputFieldMapping,
  type InputFieldsMapping,
  type InputTypeFieldsMapping,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { ValidationError, type Problem } from '../domain/errors.js';

/**
 * One rule for every text a client sends: no control characters. PostgreSQL refuses a NUL in text
 * with an error of its own, and no other control character belongs in a handle, a name, a title or a
 * key; no Ovation input is multi-line, so tab and newline are refused too. C0 (NUL among them), DEL, C1.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARACTER_MESSAGE = 'must not contain control characters';
/**
 * Invisible characters that change how the text around them reads: bidirectional embeddings, overrides
 * and isolates (a handle that displays as another), zero-width space and word joiner, the byte order
 * mark, line and paragraph separators, interlinear annotations. The joiners emoji and many scripts need
 * (U+200C, U+200D) and the left-to-right and right-to-left marks stay allowed.
 */
const INVISIBLE_FORMATTING = /[\u200b\u2028-\u202e\u2060\u2066-\u2069\ufeff\ufff9-\ufffb]/;
const INVISIBLE_FORMATTING_MESSAGE = 'must not contain invisible formatting characters (such as bidirectional overrides or zero-width spaces)';

type TextFields = InputFieldsMapping<SchemaTypes, true>;
type TextField = InputFieldMapping<SchemaTypes, true>;

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      inputHygiene: InputHygienePlugin<Types>;
    }
  }
}

/**
 * Checks every String and ID argument and input field, at any depth, before the resolver (or a
 * subscription's subscribe) runs, and refuses control characters with the domain's ValidationError,
 * named by path (`input.comboId`, `ids.3`). Which fields take text is decided once, when the schema is
 * built: a field without such arguments is left unwrapped and costs nothing.
 */
export class InputHygienePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  // Input types are walked once, whichever fields take them.
  readonly #inputTypes = new Map<string, InputTypeFieldsMapping<Types, true>>();

  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types['Context'], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    // A subscription's arguments are checked once, when it is subscribed to, not for each event.
    const textFields = fieldConfig.kind === 'Subscription' ? null : this.#textFields(fieldConfig);
    if (!textFields) return resolver;
    return (parent: unknown, args: object, context: Types['Context'], info: Parameters<typeof resolver>[3]) => {
      refuseControlCharacters(args, textFields);
      return resolver(parent, args, context, info);
    };
  }

  override wrapSubscribe(subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined, fieldConfig: PothosOutputFieldConfig<Types>) {
    const textFields = subscribe && this.#textFields(fieldConfig);
    if (!subscribe || !textFields) return subscribe;
    return (parent: unknown, args: object, context: Types['Context'], info: Parameters<typeof subscribe>[3]) => {
      refuseControlCharacters(args, textFields);
      return subscribe(parent, args, context, info);
    };
  }

  #textFields(fieldConfig: PothosOutputFieldConfig<Types>): TextFields | null {
    return mapInputFields(
      fieldConfig.args,
      this.buildCache,
      (input) => {
        const type = resolveInputTypeConfig(input.type, this.buildCache);
        return type.kind === 'Scalar' && (type.name === 'String' || type.name === 'ID') ? true : null;
      },
      this.#inputTypes,
    ) as TextFields | null;
  }
}

function refuseControlCharacters(args: object, textFields: TextFields): void {
  const problems: Problem[] = [];
  visitFields(args as Record<string, unknown>, textFields, '', problems);
  if (problems.length > 0) throw new ValidationError(problems);
}

function visitFields(values: Record<string, unknown>, fields: TextFields, prefix: string, problems: Problem[]): void {
  for (const [name, field] of fields) visitValue(values[name], field, field.listDepth, `${prefix}${name}`, problems);
}

function visitValue(value: unknown, field: TextField, listDepth: number, path: string, problems: Problem[]): void {
  if (value === null || value === undefined) return;
  if (listDepth > 0 && Array.isArray(value)) {
    value.forEach((item, index) => visitValue(item, field, listDepth - 1, `${path}.${index}`, problems));
  } else if (field.kind === 'InputObject') {
    if (field.fields.map) visitFields(value as Record<string, unknown>, field.fields.map, `${path}.`, problems);
  } else if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) {
    problems.push({ field: path, message: CONTROL_CHARACTER_MESSAGE });
  } else if (typeof value === 'string' && INVISIBLE_FORMATTING.test(value)) {
    problems.push({ field: path, message: INVISIBLE_FORMATTING_MESSAGE });
  }
}

const pluginName = 'inputHygiene';
export default pluginName;

SchemaBuilder.registerPlugin(pluginName, InputHygienePlugin);
