using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Ujumbe.Api.Content;

/// <summary>An operator-configured blocked phrase, e.g. category "gambling", phrase "bet now".</summary>
public sealed record ContentRule(Guid Id, string Category, string Phrase);

/// <summary>The rule that matched a message: its category and its phrase as configured.</summary>
public sealed record ContentMatch(string Category, string Phrase);

/// <summary>
/// Matches message texts against blocked phrases by whole words, ignoring case, accents and compatibility forms.
/// </summary>
/// <remarks>
/// <para>
/// Text and phrases go through the same tokenizer (<see cref="Words"/>): Unicode NFKD, non-spacing marks dropped,
/// invariant lower case, then words are maximal runs of letters, digits and spacing combining marks. Everything else
/// (spaces, punctuation, apostrophes, emoji) only separates words, so "don't" is the two words "don" and "t" and
/// "bet365" is the single word "bet365".
/// </para>
/// <para>
/// A rule matches when its words occur as consecutive words of the text, so "cunt" never matches "Scunthorpe" and
/// "bet now" matches "BET... now!". <see cref="Match"/> reports the match that starts earliest in the text; among
/// rules starting at the same word the longest phrase wins, then the rule configured first.
/// </para>
/// <para>Instances are immutable after construction and safe to share between threads.</para>
/// </remarks>
public sealed class ContentPolicy
{
    private sealed record CompiledRule(string[] Words, ContentRule Rule);

    private readonly FrozenDictionary<string, CompiledRule[]> _rulesByFirstWord;

    public ContentPolicy(IEnumerable<ContentRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);

        var byFirstWord = new Dictionary<string, List<CompiledRule>>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            ArgumentNullException.ThrowIfNull(rule, nameof(rules));
            ArgumentNullException.ThrowIfNull(rule.Phrase, nameof(rules));

            var words = Tokenize(rule.Phrase);
            if (words.Count == 0)
            {
                continue;
            }

            if (!byFirstWord.TryGetValue(words[0], out var bucket))
            {
                bucket = [];
                byFirstWord.Add(words[0], bucket);
            }

            bucket.Add(new CompiledRule([.. words], rule));
        }

        // OrderByDescending is stable, so equally long phrases keep configuration order.
        _rulesByFirstWord = byFirstWord.ToFrozenDictionary(
            pair => pair.Key,
            pair => pair.Value.OrderByDescending(r => r.Words.Length).ToArray(),
            StringComparer.Ordinal);
    }

    /// <summary>A policy with no rules; matches nothing.</summary>
    public static ContentPolicy Empty { get; } = new([]);

    /// <summary>The earliest rule matching <paramref name="text"/>, or <see langword="null"/> when none does.</summary>
    public ContentMatch? Match(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_rulesByFirstWord.Count == 0)
        {
            return null;
        }

        var words = Tokenize(text);
        for (var start = 0; start < words.Count; start++)
        {
            if (!_rulesByFirstWord.TryGetValue(words[start], out var candidates))
            {
                continue;
            }

            foreach (var candidate in candidates)
            {
                if (MatchesAt(words, start, candidate.Words))
                {
                    return new ContentMatch(candidate.Rule.Category, candidate.Rule.Phrase);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The canonical form of a phrase: its words joined by single spaces ("  Bet   NOW! " becomes "bet now"), or the
    /// empty string when it has no letters or digits (such a rule can never match and is ignored).
    /// </summary>
    public static string NormalizePhrase(string phrase)
    {
        ArgumentNullException.ThrowIfNull(phrase);
        return string.Join(' ', Tokenize(phrase));
    }

    /// <summary>The normalized word tokens of <paramref name="text"/>, in order.</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenize(text);
    }

    private static bool MatchesAt(List<string> words, int start, string[] phrase)
    {
        if (start + phrase.Length > words.Count)
        {
            return false;
        }

        // phrase[0] already matched through the dictionary lookup.
        for (var i = 1; i < phrase.Length; i++)
        {
            if (!string.Equals(words[start + i], phrase[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> Tokenize(string text)
    {
        var words = new List<string>();
        var decomposed = ReplaceLoneSurrogates(text).Normalize(NormalizationForm.FormKD);
        var word = new StringBuilder();

        // Runes rather than chars so letters outside the BMP stay inside their word instead of splitting it.
        foreach (var rune in decomposed.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            // Invisible format characters (soft hyphen, zero-width space) inside a word are a classic way
            // round a filter ("cas\u00ADino"); they never separate words, so they are dropped like accents.
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.Format)
            {
                continue;
            }

            // Spacing marks (e.g. Devanagari vowel signs) sit inside words; splitting there would leave fragments
            // that could match short rules.
            if (Rune.IsLetterOrDigit(rune) || category == UnicodeCategory.SpacingCombiningMark)
            {
                AppendRune(word, Rune.ToLowerInvariant(rune));
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    // string.Normalize throws on ill-formed UTF-16, and message text comes from clients; a lone surrogate must not
    // turn a policy check into a server error.
    private static string ReplaceLoneSurrogates(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            AppendRune(builder, rune);
        }

        return builder.ToString();
    }

    private static void AppendRune(StringBuilder builder, Rune rune)
    {
        Span<char> utf16 = stackalloc char[2];
        builder.Append(utf16[..rune.EncodeToUtf16(utf16)]);
    }
}
