using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Ujumbe.Api.Content;
using Ujumbe.Api.Data;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class ContentPolicyTests
{
    private static ContentRule Rule(string category, string phrase) => new(Guid.NewGuid(), category, phrase);

    private static ContentPolicy PolicyOf(params (string Category, string Phrase)[] rules) =>
        new(rules.Select(r => Rule(r.Category, r.Phrase)));

    private static readonly ContentPolicy Gambling = PolicyOf(
        ("gambling", "bet now"),
        ("gambling", "casino"),
        ("gambling", "jackpot"),
        ("political", "vote for"));

    [Theory]
    [InlineData("CASINO tonight")]
    [InlineData("Casíno tonight")] // precomposed í
    [InlineData("Casi\u0301no tonight")] // i + combining acute
    [InlineData("ｃａｓｉｎｏ tonight")] // full-width
    [InlineData("ＣＡＳＩＮＯ tonight")]
    [InlineData("𝐂𝐀𝐒𝐈𝐍𝐎 tonight")] // mathematical bold, outside the BMP
    [InlineData("cas\u00ADino tonight")] // soft hyphen inside the word
    [InlineData("casi\u200Bno tonight")] // zero-width space inside the word
    public void Match_IgnoresCaseAccentsAndCompatibilityForms(string text)
    {
        Assert.Equal(new ContentMatch("gambling", "casino"), Gambling.Match(text));
    }

    [Theory]
    [InlineData("café", "Tembelea CAFE\u0301 yetu")]
    [InlineData("cafe\u0301", "Tembelea CAFÉ yetu")]
    [InlineData("CAFE", "Tembelea café yetu")]
    public void Match_ComposedAndDecomposedAccentsAreEquivalent(string phrase, string text)
    {
        var policy = PolicyOf(("test", phrase));

        Assert.Equal(new ContentMatch("test", phrase), policy.Match(text));
        Assert.Equal(["cafe"], ContentPolicy.Words(phrase));
    }

    [Theory]
    [InlineData("cunt", "Scunthorpe United won 2-0")]
    [InlineData("ass", "First class service")]
    [InlineData("ass", "We assess your loan today")]
    [InlineData("ass", "Greetings from Massachusetts")]
    [InlineData("ass", "ASSESSMENT due")]
    [InlineData("bet", "Better rates today")]
    [InlineData("bet", "Learn the alphabet")]
    [InlineData("bet", "Promo code BET365")]
    [InlineData("bet", "Betting closes soon")]
    public void Match_DoesNotMatchInsideWords(string phrase, string text)
    {
        Assert.Null(PolicyOf(("blocked", phrase)).Match(text));
    }

    [Theory]
    [InlineData("cunt", "you cunt!")]
    [InlineData("ass", "kick ASS, win big")]
    [InlineData("bet", "Place a bet.")]
    [InlineData("bet", "(bet)")]
    public void Match_MatchesWholeWords(string phrase, string text)
    {
        Assert.Equal(new ContentMatch("blocked", phrase), PolicyOf(("blocked", phrase)).Match(text));
    }

    [Theory]
    [InlineData("BET... now!")]
    [InlineData("bet\nnow")]
    [InlineData("bet\r\n\tnow")]
    [InlineData("Bet, NOW")]
    [InlineData("bet-now")]
    [InlineData("bet\u3000now")] // ideographic space
    [InlineData("Don't wait: bet now and win")]
    public void Match_MultiWordPhraseAcrossPunctuationAndWhitespace(string text)
    {
        Assert.Equal(new ContentMatch("gambling", "bet now"), Gambling.Match(text));
    }

    [Theory]
    [InlineData("bet later now")]
    [InlineData("now bet")]
    [InlineData("bet")]
    [InlineData("betnow")]
    [InlineData("bet nowhere")]
    public void Match_MultiWordPhraseNeedsConsecutiveWholeWords(string text)
    {
        Assert.Null(Gambling.Match(text));
    }

    [Theory]
    [InlineData("Jackpot waiting for you")]
    [InlineData("Your prize: the jackpot")]
    [InlineData("jackpot")]
    [InlineData("  jackpot!!! ")]
    public void Match_PhraseAtStartOrEndOfText(string text)
    {
        Assert.Equal(new ContentMatch("gambling", "jackpot"), Gambling.Match(text));
    }

    [Fact]
    public void Match_MultiWordPhraseAtEndOfText()
    {
        Assert.Equal(new ContentMatch("political", "vote for"), Gambling.Match("Please VOTE FOR"));
        Assert.Null(Gambling.Match("Please vote"));
    }

    [Fact]
    public void Match_SwahiliWholeWords()
    {
        var policy = PolicyOf(("gambling", "kamari"), ("gambling", "bahati nasibu"), ("political", "mpigie kura"));

        Assert.Equal(new ContentMatch("gambling", "kamari"), policy.Match("Cheza KAMARI leo!"));
        Assert.Null(policy.Match("Tukutane kamarini kesho")); // locative form is a different word
        Assert.Equal(new ContentMatch("gambling", "bahati nasibu"), policy.Match("Shiriki Bahati-Nasibu sasa"));
        Assert.Equal(new ContentMatch("political", "mpigie kura"), policy.Match("Tafadhali MPIGIE\nKURA Juma"));
        Assert.Null(policy.Match("Habari za asubuhi, karibu sokoni"));
    }

    [Fact]
    public void Match_ReturnsEarliestMatchInText()
    {
        Assert.Equal(new ContentMatch("political", "vote for"), Gambling.Match("Vote for us, then visit the casino"));
        Assert.Equal(new ContentMatch("gambling", "casino"), Gambling.Match("Casino night! Vote for us"));
        Assert.Equal(new ContentMatch("gambling", "jackpot"), Gambling.Match("A jackpot at the casino: bet now"));
    }

    [Fact]
    public void Match_AtSamePositionLongestPhraseWinsThenConfigurationOrder()
    {
        var policy = PolicyOf(("short", "bet"), ("long", "bet now"), ("duplicate", "BET  now"));

        Assert.Equal(new ContentMatch("long", "bet now"), policy.Match("bet now!"));
        Assert.Equal(new ContentMatch("short", "bet"), policy.Match("bet later"));
        Assert.Equal(new ContentMatch("short", "bet"), policy.Match("bet"));
    }

    [Fact]
    public void Match_ReportsCategoryAndPhraseAsConfigured()
    {
        var policy = PolicyOf(("Gambling", "  Bet   NOW! "));

        Assert.Equal(new ContentMatch("Gambling", "  Bet   NOW! "), policy.Match("bet now"));
    }

    [Fact]
    public void EmptyPolicy_MatchesNothing()
    {
        Assert.Null(ContentPolicy.Empty.Match("bet now at the casino"));
        Assert.Null(ContentPolicy.Empty.Match(""));
        Assert.Null(new ContentPolicy([]).Match("jackpot"));
    }

    [Fact]
    public void RulesWithoutWordCharactersAreIgnored()
    {
        var policy = PolicyOf(("noise", "!!!"), ("noise", "   "), ("noise", ""), ("noise", "\u0301"));

        Assert.Null(policy.Match("!!!"));
        Assert.Null(policy.Match("   hello   "));
        Assert.Null(policy.Match(""));
    }

    [Fact]
    public void Match_EmptyOrPunctuationOnlyText()
    {
        Assert.Null(Gambling.Match(""));
        Assert.Null(Gambling.Match(" ... \n !? "));
    }

    [Theory]
    [InlineData("  Bet   NOW! ", "bet now")]
    [InlineData("casino", "casino")]
    [InlineData("Ｂｅｔ　ＮＯＷ", "bet now")]
    [InlineData("Bahati-Nasibu", "bahati nasibu")]
    [InlineData("Crème Brûlée", "creme brulee")]
    [InlineData("ﬁnal", "final")] // ligature
    [InlineData("don't", "don t")]
    [InlineData("bet365", "bet365")]
    [InlineData("２０２５", "2025")]
    [InlineData("!!!", "")]
    [InlineData("   ", "")]
    [InlineData("", "")]
    public void NormalizePhrase_CanonicalForm(string phrase, string expected)
    {
        Assert.Equal(expected, ContentPolicy.NormalizePhrase(phrase));
    }

    [Fact]
    public void NormalizePhrase_IsIdempotent()
    {
        var once = ContentPolicy.NormalizePhrase("  Ｃａｓíno,  BET now ");

        Assert.Equal("casino bet now", once);
        Assert.Equal(once, ContentPolicy.NormalizePhrase(once));
    }

    [Fact]
    public void Words_SplitsOnEverythingButLettersAndDigits()
    {
        Assert.Equal(["cheza", "kamari", "leo", "100", "bob"], ContentPolicy.Words("Cheza KAMARI leo! 100/= bob 🎰"));
        Assert.Empty(ContentPolicy.Words("🎰 -- 🎲"));
    }

    [Fact]
    public void Words_KeepsSpacingMarksAndSupplementaryLettersInsideWords()
    {
        Assert.Single(ContentPolicy.Words("किताब")); // U+093F is a spacing combining mark
        Assert.Single(ContentPolicy.Words("𐌰𐌱𐌲")); // Gothic letters are surrogate pairs
    }

    [Fact]
    public void Match_ToleratesIllFormedUtf16()
    {
        Assert.Equal(new ContentMatch("gambling", "casino"), Gambling.Match("casino \uD800 now"));
        Assert.Null(Gambling.Match("cas\uDC00ino"));
    }

    [Fact]
    public void Match_IsSafeToShareBetweenThreads()
    {
        var results = new ContentMatch?[1000];

        Parallel.For(0, results.Length, i =>
            results[i] = Gambling.Match(i % 2 == 0 ? $"Message {i}: bet now" : $"Message {i}: better now"));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? new ContentMatch("gambling", "bet now") : null, results[i]);
        }
    }

    [Fact]
    public void NullArgumentsThrow()
    {
        Assert.Throws<ArgumentNullException>(() => new ContentPolicy(null!));
        Assert.Throws<ArgumentNullException>(() => Gambling.Match(null!));
        Assert.Throws<ArgumentNullException>(() => ContentPolicy.NormalizePhrase(null!));
        Assert.Throws<ArgumentNullException>(() => ContentPolicy.Words(null!));
    }
}

/// <summary>The Api's cache of the content policy, against a database of its own (the rules apply platform-wide).</summary>
public sealed class ContentPolicyProviderTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TestStack.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await new MigrationRunner(_dataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<int> AddRuleAsync(string category, string phrase) =>
        _database.ExecuteAsync("insert into content_rules (id, category, phrase, created_at) values ($1, $2, $3, now())", Guid.NewGuid(), category, phrase);

    [Fact]
    public async Task A_load_in_flight_when_the_rules_change_is_not_kept()
    {
        await AddRuleAsync("gambling", "casino");
        using var clock = new HoldingClock();
        using var provider = new ContentPolicyProvider(_dataSource, clock);

        // The provider reads the clock once the rules are in: holding it there holds the load between its read and its store.
        clock.HoldNextReading();
        var inFlight = Task.Run(() => provider.GetAsync(CancellationToken.None).AsTask());
        await clock.Held.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await AddRuleAsync("political", "kura");
        provider.Invalidate();   // as the admin API does once the new rule is committed
        clock.Release();
        var answered = await inFlight;
        Assert.NotNull(answered);
        Assert.Equal("gambling", answered.Match("casino leo")?.Category);

        var next = await provider.GetAsync(CancellationToken.None);

        Assert.Equal("political", next.Match("piga kura leo")?.Category);
    }

    [Fact]
    public async Task Without_a_change_a_load_is_kept_for_its_lifetime()
    {
        await AddRuleAsync("gambling", "casino");
        using var clock = new HoldingClock();
        using var provider = new ContentPolicyProvider(_dataSource, clock);
        var first = await provider.GetAsync(CancellationToken.None);
        await AddRuleAsync("political", "kura");   // directly in the database: this instance is not told

        Assert.Same(first, await provider.GetAsync(CancellationToken.None));
        provider.Invalidate();
        Assert.Equal("political", (await provider.GetAsync(CancellationToken.None)).Match("piga kura leo")?.Category);
    }

    /// <summary>The system clock, except that one reading can be held until the test releases it.</summary>
    private sealed class HoldingClock : TimeProvider, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private int _holdNext;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void HoldNextReading() => Volatile.Write(ref _holdNext, 1);

        public void Release() => _release.Set();

        public override DateTimeOffset GetUtcNow()
        {
            if (Interlocked.Exchange(ref _holdNext, 0) == 1)
            {
                Held.TrySetResult();
                _release.Wait(TimeSpan.FromSeconds(10));
            }
            return base.GetUtcNow();
        }

        public void Dispose() => _release.Dispose();
    }
}
