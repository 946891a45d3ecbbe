// The credits (starting balance, refill) and monthly spend cap inputs of the key create and edit
// dialogs. The edit dialog also posts what it showed, so an untouched balance is not sent (a sent
// balance sets the live one, which verifies may have moved since the page was drawn).
import { errorProps, Field, TextField } from "@/components/ui/field";
import { Select } from "@/components/ui/select";
import { CREDIT_REFILL_INTERVALS, CREDITS_MAX } from "@/lib/validation/rules";

export interface BudgetDefaults {
  credits: string;
  creditsRefillAmount: string;
  creditsRefillInterval: string;
  spendLimitUsd: string;
}

export const EMPTY_BUDGET: BudgetDefaults = {
  credits: "",
  creditsRefillAmount: "",
  creditsRefillInterval: "month",
  spendLimitUsd: "",
};

const FIELDS = Object.keys(EMPTY_BUDGET) as (keyof BudgetDefaults)[];

export function CreditFields({
  idPrefix,
  shown,
  text,
  errors,
}: {
  idPrefix: string;
  /** The key's current values (edit), posted back as `<field>Shown`; absent when creating. */
  shown?: BudgetDefaults;
  text: (name: string, fallback?: string) => string;
  errors: Record<string, string[] | undefined>;
}) {
  const d = shown ?? EMPTY_BUDGET;
  return (
    <fieldset className="space-y-3 rounded-md border border-border p-3" data-testid="credit-fields">
      <legend className="px-1 text-sm font-medium">Credits and spend limit (optional)</legend>
      {shown &&
        FIELDS.map((f) => <input key={f} type="hidden" name={`${f}Shown`} value={shown[f]} />)}
      <TextField
        id={`${idPrefix}-credits`}
        name="credits"
        label="Credits"
        type="number"
        inputMode="numeric"
        min={0}
        max={CREDITS_MAX}
        step={1}
        placeholder="No credits"
        defaultValue={text("credits", d.credits)}
        error={errors.credits}
        hint="Each verify spends its cost (default 1); at 0 the key is refused. Empty: no credits."
      />
      <div className="grid grid-cols-2 gap-3">
        <TextField
          id={`${idPrefix}-refill`}
          name="creditsRefillAmount"
          label="Refill to"
          type="number"
          inputMode="numeric"
          min={1}
          max={CREDITS_MAX}
          step={1}
          placeholder="No refill"
          defaultValue={text("creditsRefillAmount", d.creditsRefillAmount)}
          error={errors.creditsRefillAmount}
        />
        <Field id={`${idPrefix}-interval`} label="Every" error={errors.creditsRefillInterval}>
          <Select
            id={`${idPrefix}-interval`}
            name="creditsRefillInterval"
            defaultValue={text("creditsRefillInterval", d.creditsRefillInterval)}
            {...errorProps(`${idPrefix}-interval`, errors.creditsRefillInterval)}
          >
            {CREDIT_REFILL_INTERVALS.map((i) => (
              <option key={i} value={i}>
                {i === "day" ? "Day (UTC)" : "Month (UTC)"}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <TextField
        id={`${idPrefix}-spend-limit`}
        name="spendLimitUsd"
        label="Spend limit (USD per month)"
        inputMode="decimal"
        placeholder="No limit"
        defaultValue={text("spendLimitUsd", d.spendLimitUsd)}
        error={errors.spendLimitUsd}
        hint="Against the metered cost of this key's calls, per calendar month (UTC)."
      />
    </fieldset>
  );
}

/** The form's values for a key view (what the edit dialog shows). */
export function budgetDefaultsOf(apiKey: {
  credits: { remaining: number; refill: { amount: number; interval: string } | null } | null;
  spendLimitUsd: string | null;
}): BudgetDefaults {
  return {
    credits: apiKey.credits ? String(apiKey.credits.remaining) : "",
    creditsRefillAmount: apiKey.credits?.refill ? String(apiKey.credits.refill.amount) : "",
    creditsRefillInterval: apiKey.credits?.refill?.interval ?? "month",
    spendLimitUsd: apiKey.spendLimitUsd ? String(Number(apiKey.spendLimitUsd)) : "",
  };
}
